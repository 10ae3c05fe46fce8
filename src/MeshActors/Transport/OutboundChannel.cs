using System.Globalization;
using System.Net;
using MeshActors.Protocol;
using MeshActors.Transport.Http2;
using Microsoft.Extensions.Logging;

namespace MeshActors.Transport;

/// <summary>The dialer's end of a channel: the request body is its output, the response body its input, on a connection of its own.</summary>
internal sealed class OutboundChannel : MeshChannel
{
    private readonly Http2ClientConnection _connection;
    private readonly CancellationTokenRegistration _lost;

    public OutboundChannel(
        Http2ClientConnection connection, Http2Response response, DnsEndPoint remote, string? sessionId, IReadOnlyDictionary<string, string> metadata,
        TransportStats stats, ILogger logger)
        : base(
            isInbound: false, connection.Input, connection.Output, response.Header(ChannelHeaders.ServiceName),
            sessionId, AnsweredVersion(response), metadata, remote, stats, logger)
    {
        _connection = connection;
        _lost = connection.Lost.UnsafeRegister(static state =>
        {
            var channel = (OutboundChannel)state!;
            channel.OnRemoteReset(channel._connection.LostReason ?? "the connection was lost");
        }, this);
    }

    // A header that is not a version number counts as a version this node does not speak.
    private static int? AnsweredVersion(Http2Response response) =>
        response.Header(WireProtocol.VersionHeader) is { } value
            ? int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var version) ? version : 0
            : null;

    internal override void OnInputExamined(long bytes) => _connection.ReturnCredit(bytes);

    private protected override void ResetStream() => _connection.Reset();

    private protected override void OutputCompleted() => _connection.OnOutputCompleted();

    private protected override void Release()
    {
        _lost.Unregister();
        _connection.Close();
    }
}
