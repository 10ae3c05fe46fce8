using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace MeshActors.Transport;

/// <summary>The listener's end of a channel: the request body is its input, the response body its output.</summary>
internal sealed class InboundChannel : MeshChannel
{
    private readonly HttpContext _context;
    private readonly CancellationTokenRegistration _requestAborted;

    public InboundChannel(
        HttpContext context, string remoteServiceName, string? sessionId, int? protocolVersion, IReadOnlyDictionary<string, string> metadata,
        TransportStats stats, ILogger logger)
        : base(
            isInbound: true, context.Request.BodyReader, context.Response.BodyWriter, remoteServiceName, sessionId, protocolVersion, metadata,
            context.Connection.RemoteIpAddress is { } address ? new IPEndPoint(address, context.Connection.RemotePort) : null,
            stats, logger)
    {
        _context = context;
        _requestAborted = context.RequestAborted.UnsafeRegister(
            static state => ((InboundChannel)state!).OnRemoteReset("the remote reset the stream or the connection was lost"), this);
    }

    private protected override void ResetStream()
    {
        if (_context.Features.Get<IHttpResetFeature>() is { } reset)
        {
            reset.Reset(Http2Cancel);
        }
        else
        {
            _context.Abort();
        }
    }

    private protected override void Release() => _requestAborted.Unregister();
}
