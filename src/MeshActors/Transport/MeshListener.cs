using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Security;
using MeshActors.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MeshActors.Transport;

/// <summary>
/// The HTTP/2-only endpoint other nodes open channels to: <c>POST /channel</c> (and <c>POST /unary</c> when a unary
/// handler is given); each accepted channel runs its handler for as long as the channel lives.
/// </summary>
/// <remarks>
/// Kestrel without the web host (no hosting pipeline, middleware or routing): it starts in milliseconds and every
/// request goes through one delegate. Other paths get 404, other methods 405, a request without <c>x-service-name</c> 400,
/// each with a one-line reason, a log line and a count in <see cref="Stats"/>.
/// </remarks>
public sealed class MeshListener : IAsyncDisposable
{
    private readonly string _serviceName;
    private readonly TransportOptions _options;
    private readonly Func<MeshChannel, Task> _onChannel;
    private readonly Func<MeshChannel, Task>? _onUnary;
    private readonly ILogger _logger;
    private readonly ServiceProvider _services;
    private readonly IServer _server;
    private readonly ConcurrentDictionary<MeshChannel, bool> _open = new(); // each open channel, and whether it is a unary call
    private readonly CancellationTokenSource _stopping = new();
    private ListenOptions? _listenOptions;
    private int _state; // 0 created, 1 started, 2 stopping or stopped

    /// <summary>Creates a listener that answers as <paramref name="serviceName"/> and runs <paramref name="onChannel"/> for each channel.</summary>
    /// <param name="serviceName">This node's service name, sent back as <c>x-service-name</c> on the 200.</param>
    /// <param name="options">Where to listen, TLS, HTTP/2 windows and keep-alive.</param>
    /// <param name="onChannel">Runs for each accepted <c>/channel</c>; the channel lives until the returned task completes.</param>
    /// <param name="onUnary">Runs for each <c>/unary</c> call, the same way; when null, <c>/unary</c> answers 404.</param>
    /// <param name="loggerFactory">Where the listener and Kestrel log; nowhere when null.</param>
    public MeshListener(
        string serviceName, TransportOptions options, Func<MeshChannel, Task> onChannel, Func<MeshChannel, Task>? onUnary = null,
        ILoggerFactory? loggerFactory = null)
    {
        ChannelHeaders.ValidateServiceName(serviceName, nameof(serviceName));
        ArgumentNullException.ThrowIfNull(onChannel);
        if (options.Http2ConnectionWindowSize <= 2L * options.Http2StreamWindowSize)
        {
            throw new ArgumentException(
                "Http2ConnectionWindowSize must exceed twice Http2StreamWindowSize, or one channel whose reader stalls starves every other channel on its connection.",
                nameof(options));
        }

        _serviceName = serviceName;
        _options = options;
        _onChannel = onChannel;
        _onUnary = onUnary;
        loggerFactory ??= NullLoggerFactory.Instance;
        _logger = loggerFactory.CreateLogger<MeshListener>();

        // Kestrel alone, without the web host: its services (HTTPS among them) come from the official registrations,
        // and every request goes straight to HandleAsync, without hosting diagnostics or middleware.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggerFactory);
        // Kestrel's default waits for each read with a zero-byte receive before it takes a buffer: a syscall more
        // per receive of a busy channel (data from dialers moved 1.3-1.6x faster without it, with 4 KB blocks), to
        // save an idle connection its block (64 KB, ListenerMemoryPool below).
        builder.WebHost.UseSockets(sockets => sockets.WaitForDataBeforeAllocatingBuffer = false);
        builder.WebHost.UseKestrelCore().UseKestrelHttpsConfiguration().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            var limits = kestrel.Limits;
            limits.MaxRequestBodySize = null;        // trap 5: a channel's body has no end
            limits.MinRequestBodyDataRate = null;    // trap 6: an idle channel is not a slow client
            limits.MinResponseDataRate = null;
            limits.Http2.InitialConnectionWindowSize = options.Http2ConnectionWindowSize;
            limits.Http2.InitialStreamWindowSize = options.Http2StreamWindowSize;
            limits.Http2.MaxFrameSize = options.Http2MaxFrameSize;
            limits.Http2.MaxStreamsPerConnection = options.MaxChannelsPerConnection;
            limits.Http2.KeepAlivePingDelay = options.KeepAlivePingDelay;
            limits.Http2.KeepAlivePingTimeout = options.KeepAlivePingTimeout;
            kestrel.Listen(ParseHost(options.ListenHost), options.ListenPort, listen =>
            {
                // HTTP/2 only (trap 8): Kestrel has no h2c upgrade, so HTTP/1.x clients get 400.
                listen.Protocols = HttpProtocols.Http2;
                if (options.Certificate is not null)
                {
                    listen.UseHttps(new HttpsConnectionAdapterOptions
                    {
                        ServerCertificate = options.Certificate,
                        ServerCertificateChain = options.CertificateChain,
                        // An HTTP/1.1 client offers http/1.1 alone: offered only h2, it would fail the handshake, which
                        // Kestrel logs at Debug. Let it in, so that the preface check logs and counts it as any other.
                        OnAuthenticate = static (_, tls) => tls.ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
                    });
                }

                listen.Use(Http2PrefaceCheck.Create(options.ConnectTimeout, connection =>
                {
                    Stats.OnRejected();
                    TransportLog.NotHttp2(_logger, connection.RemoteEndPoint?.ToString() ?? "?");
                }));
                _listenOptions = listen;
            });
        });
        // After Kestrel's own registrations, so that its transport takes these 64 KB blocks rather than its 4 KB ones.
        builder.Services.AddSingleton<IMemoryPoolFactory<byte>>(new ListenerMemoryPool.Factory());
        _services = builder.Services.BuildServiceProvider();
        _server = _services.GetRequiredService<IServer>();
    }

    /// <summary>Counters of the channels this listener accepted and refused.</summary>
    public TransportStats Stats { get; } = new();

    /// <summary>The address and port actually bound (the chosen port when <see cref="TransportOptions.ListenPort"/> is 0); available once started.</summary>
    public IPEndPoint LocalEndPoint =>
        Volatile.Read(ref _state) != 0 && _listenOptions?.IPEndPoint is { } bound
            ? bound
            : throw new InvalidOperationException("The listener has not been started.");

    /// <summary>Where other nodes dial this one: <see cref="TransportOptions.AdvertisedHost"/> (or the listen host) and the bound port.</summary>
    public DnsEndPoint AdvertisedEndPoint => new(_options.AdvertisedHost ?? _options.ListenHost, LocalEndPoint.Port);

    /// <summary>Binds the endpoint and starts accepting channels.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("The listener was already started.");
        }

        await _server.StartAsync(new RequestDelegateApplication(HandleAsync), cancellationToken).ConfigureAwait(false);
        TransportLog.ListenerStarted(_logger, _serviceName, _options.Certificate is null ? "http" : "https", LocalEndPoint);
    }

    /// <summary>
    /// Stops accepting, aborts every open channel (the remotes see a stream reset), tells unary calls to end once
    /// answered (<see cref="MeshChannel.ListenerStopping"/>), waits up to <see cref="TransportOptions.ShutdownTimeout"/>
    /// for the handlers to return, then closes the connections.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _state, 2) != 1)
        {
            return;
        }

        var unaryCalls = _open.Count(open => open.Value);
        TransportLog.ListenerStopping(_logger, _listenOptions?.IPEndPoint, _open.Count - unaryCalls, unaryCalls);
        // A unary call ends once what it was asked is answered, within the shutdown timeout: its caller is owed those
        // answers. A node stops its listener once its channels have ended, so the rest are strays.
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var (channel, unary) in _open)
        {
            if (!unary)
                channel.Abort("the listener is stopping");
        }

        using var grace = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        grace.CancelAfter(_options.ShutdownTimeout);
        await _server.StopAsync(grace.Token).ConfigureAwait(false);
    }

    /// <summary>Stops the listener (see <see cref="StopAsync"/>) and frees its resources.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await _services.DisposeAsync().ConfigureAwait(false);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var handler = request.Path.Value switch
        {
            ChannelHeaders.ChannelPath => _onChannel,
            ChannelHeaders.UnaryPath => _onUnary,
            _ => null,
        };
        if (handler is null)
        {
            var unaryRoute = _onUnary is null ? "" : $", unary calls made with POST {ChannelHeaders.UnaryPath}";
            await RejectAsync(context, StatusCodes.Status404NotFound, $"no such route; channels are opened with POST {ChannelHeaders.ChannelPath}{unaryRoute}").ConfigureAwait(false);
            return;
        }

        if (!HttpMethods.IsPost(request.Method))
        {
            context.Response.Headers.Allow = HttpMethods.Post;
            await RejectAsync(context, StatusCodes.Status405MethodNotAllowed, $"{request.Path} accepts POST only").ConfigureAwait(false);
            return;
        }

        var remoteServiceName = request.Headers[ChannelHeaders.ServiceName].ToString();
        if (string.IsNullOrWhiteSpace(remoteServiceName))
        {
            await RejectAsync(context, StatusCodes.Status400BadRequest, $"the {ChannelHeaders.ServiceName} header (the caller's service name) is required").ConfigureAwait(false);
            return;
        }

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.Headers[ChannelHeaders.ServiceName] = _serviceName;
        var protocolVersion = NegotiateVersion(request.Headers, response.Headers);
        try
        {
            await response.StartAsync().ConfigureAwait(false);
            // Trap 1: without this flush the 200 stays buffered and the dialer's SendAsync never returns.
            await response.BodyWriter.FlushAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            TransportLog.CallerGone(_logger, remoteServiceName, RemoteAddress(context), ex.Message);
            return;
        }

        var sessionId = request.Headers[ChannelHeaders.SessionId];
        var channel = new InboundChannel(
            context, remoteServiceName, sessionId.Count == 0 ? null : sessionId.ToString(), protocolVersion, ReadMetadata(request.Headers), Stats, _logger)
        {
            ListenerStopping = _stopping.Token,
        };
        Stats.OnAccepted();
        TransportLog.ChannelAccepted(_logger, channel, request.Path.Value!);
        var unary = request.Path.Value == ChannelHeaders.UnaryPath;
        _open.TryAdd(channel, unary);
        if (Volatile.Read(ref _state) == 2 && !unary)
        {
            // StopAsync may have walked the open channels just before this one was added.
            channel.Abort("the listener is stopping");
        }

        try
        {
            await handler(channel).ConfigureAwait(false);
        }
        catch (ChannelClosedException) when (channel.Aborted.IsCancellationRequested)
        {
            // The handler let the channel's own end escape; the channel has logged why it ended.
        }
        catch (Exception ex)
        {
            TransportLog.HandlerFailed(_logger, channel, ex);
            channel.Abort($"the handler failed: {ex.Message}");
        }
        finally
        {
            _open.TryRemove(channel, out _);
            channel.OnHandlerReturned();
        }
    }

    private Task RejectAsync(HttpContext context, int statusCode, string reason)
    {
        Stats.OnRejected();
        var request = context.Request;
        TransportLog.ChannelRejected(_logger, request.Method, request.Path.Value ?? "", RemoteAddress(context), statusCode, reason);
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(reason + "\n");
    }

    private static string RemoteAddress(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } address ? new IPEndPoint(address, context.Connection.RemotePort).ToString() : "?";

    // docs/protocol.md 2.3: no offer means a plain channel; without a common version the answer names the highest one
    // spoken here, and the channel's handler sends unsupported_version (the channel then has version 0).
    private static int? NegotiateVersion(IHeaderDictionary requestHeaders, IHeaderDictionary responseHeaders)
    {
        var offered = requestHeaders[WireProtocol.VersionHeader];
        if (offered.Count == 0)
        {
            return null;
        }

        var agreed = WireProtocol.TryNegotiateVersion(offered.ToString(), out var version);
        responseHeaders[WireProtocol.VersionHeader] = (agreed ? version : WireProtocol.Version).ToString(CultureInfo.InvariantCulture);
        return agreed ? version : 0;
    }

    private static Dictionary<string, string> ReadMetadata(IHeaderDictionary headers)
    {
        var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in headers)
        {
            if (ChannelHeaders.IsMetadata(name))
            {
                metadata[name.ToLowerInvariant()] = values.ToString();
            }
        }

        return metadata;
    }

    private static IPAddress ParseHost(string host) =>
        IPAddress.TryParse(host, out var address) ? address
        : string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
        : throw new ArgumentException($"ListenHost must be an IP address or 'localhost', not '{host}'.", nameof(host));
}
