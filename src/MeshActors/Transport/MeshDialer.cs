using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using MeshActors.Transport.Http2;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MeshActors.Transport;

/// <summary>Opens channels to other nodes' listeners, each on an HTTP/2 connection of its own.</summary>
/// <remarks>
/// The dialer speaks HTTP/2 itself (<see cref="Http2ClientConnection"/>) rather than through SocketsHttpHandler, whose
/// request bodies moved at half the speed of responses; a channel is one long-lived stream, so sharing connections
/// between channels would buy nothing but head-of-line blocking.
/// </remarks>
public sealed class MeshDialer : IDisposable
{
    private readonly string _serviceName;
    private readonly TransportOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<Http2ClientConnection, byte> _connections = new();
    private bool _disposed;

    /// <summary>Creates a dialer that introduces itself as <paramref name="serviceName"/> (<c>x-service-name</c>).</summary>
    public MeshDialer(string serviceName, TransportOptions options, ILoggerFactory? loggerFactory = null)
    {
        ChannelHeaders.ValidateServiceName(serviceName, nameof(serviceName));
        _serviceName = serviceName;
        _options = options;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<MeshDialer>();
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

    /// <summary>Closes every connection this dialer opened; their open channels are lost.</summary>
    public void Dispose()
    {
        _disposed = true;
        foreach (var connection in _connections.Keys)
        {
            connection.Abort("the dialer was disposed");
        }
    }

    private async Task<MeshChannel> OpenAsync(
        string path, DnsEndPoint remote, string? sessionId, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(remote);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var request = new RequestHeaders(
            _options.Certificate is null ? "http" : "https", ChannelHeaders.Format(remote), path, RequestFields(sessionId, metadata));

        // The caller's token and the connect timeout only guard the opening; the channel then lives on its own.
        using var opening = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        opening.CancelAfter(_options.ConnectTimeout);
        Http2ClientConnection? connection = null;
        try
        {
            connection = await Http2ClientConnection.OpenAsync(
                remote, Tls(remote), request, _options.Http2StreamWindowSize, _options.KeepAlivePingDelay, _options.KeepAlivePingTimeout,
                opening.Token).ConfigureAwait(false);
            var response = await connection.Response.ConfigureAwait(false);
            if (response.Status != 200)
            {
                throw new ChannelRejectedException(remote, response.Status, await ReadReasonAsync(connection, opening.Token).ConfigureAwait(false));
            }

            var channel = new OutboundChannel(
                connection, response, remote, sessionId,
                metadata is null ? EmptyMetadata : new Dictionary<string, string>(metadata, StringComparer.OrdinalIgnoreCase),
                Stats, _logger);
            Track(connection);
            Stats.OnDialed();
            TransportLog.ChannelOpened(_logger, channel);
            return channel;
        }
        catch (Exception ex)
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }

            Stats.OnDialFailed();
            var failure = ex switch
            {
                _ when cancellationToken.IsCancellationRequested => new OperationCanceledException(cancellationToken),
                ChannelRejectedException => ex,
                OperationCanceledException or IOException when opening.IsCancellationRequested =>
                    new ChannelConnectException(remote, $"no answer within {_options.ConnectTimeout.TotalSeconds:0.###} s", ex),
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

    private List<KeyValuePair<string, string>> RequestFields(string? sessionId, IReadOnlyDictionary<string, string>? metadata)
    {
        var fields = new List<KeyValuePair<string, string>> { new(ChannelHeaders.ServiceName, _serviceName) };
        if (sessionId is not null)
        {
            fields.Add(new(ChannelHeaders.SessionId, sessionId));
        }

        foreach (var (name, value) in metadata ?? EmptyMetadata)
        {
            if (!ChannelHeaders.IsMetadata(name) || !ChannelHeaders.IsToken(name) || !ChannelHeaders.IsFieldValue(value))
            {
                throw new ArgumentException($"'{name}' cannot be sent as channel metadata.", nameof(metadata));
            }

            fields.Add(new(name.ToLowerInvariant(), value));
        }

        return fields;
    }

    private SslClientAuthenticationOptions? Tls(DnsEndPoint remote) => _options.Certificate is null ? null : new()
    {
        TargetHost = remote.Host,
        ApplicationProtocols = [SslApplicationProtocol.Http2],
        RemoteCertificateValidationCallback = _options.RemoteCertificateValidation,
        CertificateChainPolicy = _options.TrustedRoots is { } roots ? TrustOnly(roots) : null,
    };

    private static X509ChainPolicy TrustOnly(X509Certificate2Collection roots)
    {
        // Revocation lists of a private authority are rarely published; a mesh that keeps them checks in its callback.
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.AddRange(roots);
        return policy;
    }

    // Forgotten once its connection is gone, whichever way it went.
    private void Track(Http2ClientConnection connection)
    {
        _connections.TryAdd(connection, 0);
        _ = connection.Closed.ContinueWith(_ => _connections.TryRemove(connection, out var _), TaskScheduler.Default);
        if (_disposed)
        {
            connection.Abort("the dialer was disposed");
        }
    }

    private static readonly IReadOnlyDictionary<string, string> EmptyMetadata = new Dictionary<string, string>();

    // The listener explains a rejection in one line of text: read up to its end (or 512 bytes), not to the end of a
    // body that may stay open.
    private static async Task<string> ReadReasonAsync(Http2ClientConnection connection, CancellationToken cancellationToken)
    {
        const int MaxReason = 512;
        var input = connection.Input;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
                var buffer = result.Buffer.Slice(0, Math.Min(result.Buffer.Length, MaxReason));
                var text = System.Text.Encoding.UTF8.GetString(buffer.ToArray());
                var newline = text.IndexOfAny(['\r', '\n']);
                if (newline >= 0 || result.IsCompleted || buffer.Length == MaxReason)
                {
                    return newline < 0 ? text : text[..newline];
                }

                input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            return "";
        }
    }
}
