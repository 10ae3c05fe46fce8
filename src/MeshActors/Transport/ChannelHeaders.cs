using System.Collections.Frozen;
using System.Net;

namespace MeshActors.Transport;

/// <summary>The HTTP names of the channel exchange: routes, identity headers, and which headers are metadata.</summary>
internal static class ChannelHeaders
{
    public const string ChannelPath = "/channel";
    public const string UnaryPath = "/unary";

    /// <summary>The caller's service name on a request; the listener's own on its 200 answer.</summary>
    public const string ServiceName = "x-service-name";

    public const string SessionId = "x-session-id";

    // Connection-specific headers (RFC 9113 section 8.2.2), the pseudo-header Kestrel surfaces as Host, and the two
    // identity headers never reach the application as metadata.
    private static readonly FrozenSet<string> NotMetadata = FrozenSet.Create(
        StringComparer.OrdinalIgnoreCase,
        ServiceName, SessionId, "host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "content-length");

    public static bool IsMetadata(string name) => !name.StartsWith(':') && !NotMetadata.Contains(name);

    /// <summary>"host:port", with brackets around an IPv6 host.</summary>
    public static string Format(EndPoint endPoint) => endPoint switch
    {
        DnsEndPoint dns when dns.Host.Contains(':') => $"[{dns.Host}]:{dns.Port}",
        DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        _ => endPoint.ToString() ?? "?",
    };
}
