using System.Text.Json.Serialization;

namespace MeshActors.Protocol;

internal abstract partial record Envelope
{
    /// <summary>The first frame each way: who the node is, the version it speaks, its capabilities and frame limit.</summary>
    /// <remarks>The optional members are constructor parameters with defaults so that a peer may leave them out of its JSON.</remarks>
    public sealed record Hello(
        [property: JsonPropertyName("node"), JsonPropertyOrder(1)] string NodeId,
        [property: JsonPropertyName("name"), JsonPropertyOrder(2)] string Name,
        IReadOnlyList<string>? Capabilities = null,
        int MaxFrameSize = ProtocolOptions.DefaultMaxFrameSize,
        int Version = WireProtocol.Version) : Envelope(WireNames.HelloType)
    {
        /// <summary>The protocol version the node speaks on this channel.</summary>
        [JsonPropertyName("v"), JsonPropertyOrder(0)]
        public int Version { get; init; } = Version;

        /// <summary>Optional features the node supports, such as <see cref="WireProtocol.BinaryCapability"/>.</summary>
        [JsonPropertyName("caps"), JsonPropertyOrder(3)]
        public IReadOnlyList<string> Capabilities { get; init; } = Capabilities ?? [];

        /// <summary>The largest payload the node accepts; the sender must stay at or below it.</summary>
        [JsonPropertyName("max_frame"), JsonPropertyOrder(4), JsonConverter(typeof(MaxFrameSizeJsonConverter))]
        public int MaxFrameSize { get; init; } = MaxFrameSize;

        /// <summary>
        /// Optional: an id of this run of the node, new each time it starts. A channel from a node id with another
        /// incarnation than the channel it replaces comes from a node that restarted (docs/protocol.md 7.4).
        /// </summary>
        [JsonPropertyName("incarnation"), JsonPropertyOrder(5), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? Incarnation { get; init; }

        /// <summary>True when the node accepts binary attachments.</summary>
        [JsonIgnore]
        public bool AcceptsAttachments => Capabilities.Contains(WireProtocol.BinaryCapability);
    }
}
