using System.Globalization;
using System.IO.Pipelines;
using MeshActors.Protocol;
using System.Net;
using Microsoft.Extensions.Logging;

namespace MeshActors.Transport;

/// <summary>The dialer's end of a channel: the request body is its output, the response body its input.</summary>
internal sealed class OutboundChannel : MeshChannel
{
    // 64 KB writes: environment.md measured them much faster than PipeWriter.Create's 4 KB default for small frames.
    // 64 KB reads hand the protocol hundreds of small frames at once (4 KB measured no slower on loopback).
    private const int WriteBufferSize = 64 * 1024;
    private const int ReadBufferSize = 64 * 1024;

    private readonly HttpResponseMessage _response;
    private readonly DuplexContent _content;
    private readonly CancellationTokenSource _request;
    private readonly CancellationTokenRegistration _reset;

    public OutboundChannel(
        HttpResponseMessage response, Stream responseStream, Stream requestStream, DuplexContent content,
        CancellationTokenSource request, DnsEndPoint remote, string? sessionId, IReadOnlyDictionary<string, string> metadata,
        TransportStats stats, ILogger logger)
        : base(
            isInbound: false,
            PipeReader.Create(responseStream, new StreamPipeReaderOptions(bufferSize: ReadBufferSize, minimumReadSize: ReadBufferSize / 4, leaveOpen: true)),
            PipeWriter.Create(requestStream, new StreamPipeWriterOptions(minimumBufferSize: WriteBufferSize, leaveOpen: true)),
            response.Headers.TryGetValues(ChannelHeaders.ServiceName, out var names) ? names.FirstOrDefault() : null,
            sessionId, AnsweredVersion(response), metadata, remote, stats, logger)
    {
        _response = response;
        _content = content;
        _request = request;
        _reset = content.Reset.UnsafeRegister(
            static state => ((OutboundChannel)state!).OnRemoteReset("the remote reset the stream or the connection was lost"), this);
    }

    // A header that is not a version number counts as a version this node does not speak.
    private static int? AnsweredVersion(HttpResponseMessage response) =>
        response.Headers.TryGetValues(WireProtocol.VersionHeader, out var values)
            ? int.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var version) ? version : 0
            : null;

    private protected override void OnOutputCompleted() => _content.Complete();

    private protected override void ResetStream()
    {
        // Cancelling the request's token makes SocketsHttpHandler send RST_STREAM (CANCEL) and fail pending reads.
        _request.Cancel();
        _content.Complete(new OperationCanceledException("The channel was aborted."));
        _response.Dispose();
    }

    private protected override void Release()
    {
        _reset.Unregister();
        // Disposing the response before the body's END_STREAM went out would reset the stream instead; once both
        // directions are done it frees nothing more, but after an early Input.Complete it tells the remote to stop.
        _ = _content.Finished.ContinueWith(static (_, response) => ((HttpResponseMessage)response!).Dispose(), _response, TaskScheduler.Default);
    }
}
