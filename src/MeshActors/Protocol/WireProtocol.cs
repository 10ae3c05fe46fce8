using System.Text.Json;

namespace MeshActors.Protocol;

/// <summary>The names and numbers of the wire protocol that the transport needs (docs/protocol.md, section 2).</summary>
internal static class WireProtocol
{
    /// <summary>The protocol version this node speaks.</summary>
    public const int Version = 1;

    /// <summary>
    /// How deep a frame's JSON may nest, the envelope's object included (docs/protocol.md 4.1): a value nests as deep
    /// as System.Text.Json writes and reads by default (64), with its envelope around it.
    /// </summary>
    public const int MaxDepth = 65;

    /// <summary>Reader options for a whole frame's JSON.</summary>
    public static readonly JsonReaderOptions FrameReading = new() { MaxDepth = MaxDepth };

    /// <summary>Path of a long-lived channel.</summary>
    public const string ChannelPath = "/channel";

    /// <summary>Path of a unary call (request frames in, answer frames out, then the end).</summary>
    public const string UnaryPath = "/unary";

    /// <summary>Required request header: the caller's service (node) name.</summary>
    public const string ServiceNameHeader = "x-service-name";

    /// <summary>Optional request header: an opaque id the caller gives the channel.</summary>
    public const string SessionIdHeader = "x-session-id";

    /// <summary>Request header listing the versions the caller speaks; response header naming the one chosen. Absent: a plain Marketrix channel.</summary>
    public const string VersionHeader = "x-mesh-protocol";

    /// <summary>The hello capability saying the node accepts binary attachments.</summary>
    public const string BinaryCapability = "bin";

    /// <summary>The capabilities this node announces.</summary>
    public static readonly IReadOnlyList<string> Capabilities = [BinaryCapability];

    /// <summary>
    /// Picks the version to speak from the comma-separated versions a client offered in <see cref="VersionHeader"/>
    /// (a missing header means a plain channel and is not the caller's business here). False when none is spoken here.
    /// </summary>
    public static bool TryNegotiateVersion(string offered, out int version)
    {
        foreach (var range in offered.AsSpan().Split(','))
        {
            if (int.TryParse(offered.AsSpan(range).Trim(), System.Globalization.NumberStyles.None, null, out var candidate)
                && candidate == Version)
            {
                version = candidate;
                return true;
            }
        }

        version = 0;
        return false;
    }
}
