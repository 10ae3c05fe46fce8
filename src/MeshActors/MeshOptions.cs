using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace MeshActors;

/// <summary>Everything a mesh node can be configured with; every default is defined once, in these option types.</summary>
/// <remarks>Binds from configuration section <c>Mesh</c> (see MeshActors.Hosting). Each component owns its own options record.</remarks>
public sealed record MeshOptions
{
    /// <summary>The node's name; nodes with the same name form a group (Marketrix <c>service_name</c>). Default "node".</summary>
    public string NodeName { get; init; } = "node";

    /// <summary>The node's id, a UUID v4; a new one when null (the default), so a restarted node is a new member.</summary>
    public string? NodeId { get; init; }

    /// <summary>Listener, dialer, framing, queue and liveness settings.</summary>
    public Transport.TransportOptions Transport { get; init; } = new();

    /// <summary>Frame limits of the wire protocol.</summary>
    public Protocol.ProtocolOptions Protocol { get; init; } = new();

    /// <summary>Per-peer outbound queues, heartbeats, liveness and reconnection.</summary>
    public Peers.PeerOptions Peers { get; init; } = new();

    /// <summary>Which registry the node announces itself in, and how often.</summary>
    public Discovery.DiscoveryOptions Discovery { get; init; } = new();

    /// <summary>Topic, group and service settings.</summary>
    public Messaging.MessagingOptions Messaging { get; init; } = new();

    /// <summary>Serializer settings for typed payloads; add a source-generated context through <see cref="JsonSerializerOptions.TypeInfoResolverChain"/>. Default: web defaults (camelCase).</summary>
    public JsonSerializerOptions Json { get; init; } = JsonSerializerOptions.Web;

    /// <summary>Where the node logs; none when null.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }
}
