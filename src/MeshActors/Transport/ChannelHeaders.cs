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

    /// <summary>True for a valid header name (an RFC 9110 token).</summary>
    public static bool IsToken(string name) => name.Length > 0 && !name.AsSpan().ContainsAnyExcept(TokenChars);

    /// <summary>Throws unless <paramref name="serviceName"/> can travel in <c>x-service-name</c>, as a listener answers and a dialer asks with it.</summary>
    public static void ValidateServiceName(string serviceName, string paramName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceName, paramName);
        if (!IsFieldValue(serviceName))
        {
            throw new ArgumentException(
                $"Service name '{serviceName}' must be visible ASCII (spaces inside allowed): it travels in the {ServiceName} header, which carries nothing else.",
                paramName);
        }
    }

    /// <summary>True for a header value HTTP/2 can carry as is: visible ASCII, spaces and tabs, none at either end.</summary>
    public static bool IsFieldValue(string value) =>
        !value.AsSpan().ContainsAnyExcept(FieldValueChars) && (value.Length == 0 || (value[0] is not (' ' or '\t') && value[^1] is not (' ' or '\t')));

    private static readonly System.Buffers.SearchValues<char> TokenChars =
        System.Buffers.SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    private static readonly System.Buffers.SearchValues<char> FieldValueChars =
        System.Buffers.SearchValues.Create(Enumerable.Range(0x20, 0x7f - 0x20).Select(c => (char)c).Append('\t').ToArray());

    /// <summary>"host:port", with brackets around an IPv6 host.</summary>
    public static string Format(EndPoint endPoint) => endPoint switch
    {
        DnsEndPoint dns when dns.Host.Contains(':') => $"[{dns.Host}]:{dns.Port}",
        DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        _ => endPoint.ToString() ?? "?",
    };
}
