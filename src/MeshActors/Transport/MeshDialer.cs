using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MeshActors.Transport;

/// <summary>Opens channels to other nodes' listeners over pooled HTTP/2 connections (one per remote unless its stream limit is reached).</summary>
public sealed class MeshDialer : IDisposable
{
    private readonly string _serviceName;
    private readonly TransportOptions _options;
    private readonly HttpClient _client;
    private readonly ILogger _logger;

    /// <summary>Creates a dialer that introduces itself as <paramref name="serviceName"/> (<c>x-service-name</c>).</summary>
    public MeshDialer(string serviceName, TransportOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceName);
        _serviceName = serviceName;
        _options = options;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<MeshDialer>();
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.ConnectTimeout,
            ConnectCallback = static async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
                    return new WriteBehindStream(socket, WriteBehindBytes);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            // A long-lived stream queued behind the remote's stream limit would wait for a slot that never frees.
            EnableMultipleHttp2Connections = true,
            InitialHttp2StreamWindowSize = options.Http2StreamWindowSize,
            KeepAlivePingDelay = options.KeepAlivePingDelay,
            KeepAlivePingTimeout = options.KeepAlivePingTimeout,
            // Channels are requests, so a connection carrying one is pinged; an idle pooled connection needs no watch.
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            // Mesh traffic goes straight to the peer: an HTTP_PROXY meant for the web would break h2c.
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            SslOptions = new SslClientAuthenticationOptions
            {
                ApplicationProtocols = [SslApplicationProtocol.Http2],
                RemoteCertificateValidationCallback = options.RemoteCertificateValidation,
            },
        };

        // Trap 7: a finite HttpClient.Timeout would cut every long-lived stream.
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>Counters of the channels this dialer opened.</summary>
    public TransportStats Stats { get; } = new();

    /// <summary>Opens a channel (<c>POST /channel</c>) to the listener at <paramref name="remote"/>; returns once it answered 200.</summary>
    /// <param name="remote">The listener's host and port.</param>
    /// <param name="sessionId">Sent as <c>x-session-id</c> when not null.</param>
    /// <param name="metadata">Sent as request headers; names must be valid header names other than the identity and connection headers.</param>
    /// <param name="cancellationToken">Cancels the opening only, never the open channel.</param>
    /// <exception cref="ChannelConnectException">No connection, no HTTP/2, or no answer within <see cref="TransportOptions.ConnectTimeout"/>.</exception>
    /// <exception cref="ChannelRejectedException">The listener answered with another status than 200.</exception>
    public Task<MeshChannel> OpenChannelAsync(
        DnsEndPoint remote, string? sessionId = null, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default) =>
        OpenAsync(ChannelHeaders.ChannelPath, remote, sessionId, metadata, cancellationToken);

    /// <summary>
    /// Opens a unary call (<c>POST /unary</c>): write the request frames to <see cref="MeshChannel.Output"/> and complete it,
    /// then read the response frames from <see cref="MeshChannel.Input"/> until it completes. Same parameters and failures as
    /// <see cref="OpenChannelAsync"/>.
    /// </summary>
    public Task<MeshChannel> OpenUnaryAsync(
        DnsEndPoint remote, string? sessionId = null, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default) =>
        OpenAsync(ChannelHeaders.UnaryPath, remote, sessionId, metadata, cancellationToken);

    /// <summary>Closes the pooled connections; open channels are reset.</summary>
    public void Dispose() => _client.Dispose();

    private async Task<MeshChannel> OpenAsync(
        string path, DnsEndPoint remote, string? sessionId, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(remote);
        var content = new DuplexContent();
        var request = new HttpRequestMessage(HttpMethod.Post, $"{(_options.Certificate is null ? "http" : "https")}://{ChannelHeaders.Format(remote)}{path}")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        request.Headers.TryAddWithoutValidation(ChannelHeaders.ServiceName, _serviceName);
        if (sessionId is not null)
        {
            request.Headers.TryAddWithoutValidation(ChannelHeaders.SessionId, sessionId);
        }

        foreach (var (name, value) in metadata ?? EmptyMetadata)
        {
            if (!ChannelHeaders.IsMetadata(name) ||
                !(request.Headers.TryAddWithoutValidation(name, value) || content.Headers.TryAddWithoutValidation(name, value)))
            {
                throw new ArgumentException($"'{name}' cannot be sent as channel metadata.", nameof(metadata));
            }
        }

        // The request's own token lives as long as the channel: cancelling it resets the stream. The caller's token
        // and the connect timeout only guard the opening.
        var requestLifetime = new CancellationTokenSource();
        using var opening = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        opening.CancelAfter(_options.ConnectTimeout);
        HttpResponseMessage? response = null;
        try
        {
            using (opening.Token.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), requestLifetime))
            {
                response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, requestLifetime.Token).ConfigureAwait(false);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    var reason = await ReadReasonAsync(response, opening.Token).ConfigureAwait(false);
                    throw new ChannelRejectedException(remote, (int)response.StatusCode, reason);
                }

                var responseStream = await response.Content.ReadAsStreamAsync(opening.Token).ConfigureAwait(false);
                var requestStream = await content.RequestStream.WaitAsync(opening.Token).ConfigureAwait(false);
                var channel = new OutboundChannel(
                    response, responseStream, requestStream, content, requestLifetime, remote, sessionId,
                    metadata is null ? EmptyMetadata : new Dictionary<string, string>(metadata, StringComparer.OrdinalIgnoreCase),
                    Stats, _logger);
                Stats.OnDialed();
                TransportLog.ChannelOpened(_logger, channel);
                return channel;
            }
        }
        catch (Exception ex)
        {
            requestLifetime.Cancel();
            content.Complete(ex);
            response?.Dispose();
            Stats.OnDialFailed();
            var failure = ex switch
            {
                _ when cancellationToken.IsCancellationRequested => new OperationCanceledException(cancellationToken),
                ChannelRejectedException => ex,
                OperationCanceledException when opening.IsCancellationRequested =>
                    new ChannelConnectException(remote, $"no answer within {_options.ConnectTimeout.TotalSeconds:0.###} s", ex),
                OperationCanceledException when content.Reset.IsCancellationRequested =>
                    new ChannelConnectException(remote, "the listener reset the stream while it was being opened", ex),
                _ => new ChannelConnectException(remote, ex.Message, ex),
            };
            TransportLog.DialFailed(_logger, failure.Message);
            if (failure == ex)
            {
                throw;
            }

            throw failure;
        }
    }

    // Unsent bytes a connection may hold before the handler's writes wait: 32 of its 32 KB socket writes.
    private const int WriteBehindBytes = 1024 * 1024;

    private static readonly IReadOnlyDictionary<string, string> EmptyMetadata = new Dictionary<string, string>();

    // The listener explains a rejection in one line of text; read no more than that.
    private static async Task<string> ReadReasonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var buffer = new byte[512];
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var length = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            var text = System.Text.Encoding.UTF8.GetString(buffer, 0, length);
            var newline = text.IndexOfAny(['\r', '\n']);
            return newline < 0 ? text : text[..newline];
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException)
        {
            return response.ReasonPhrase ?? "";
        }
    }
}
