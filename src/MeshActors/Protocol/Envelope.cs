using System.Text.Json.Serialization;

namespace MeshActors.Protocol;

/// <summary>One decoded frame of a v1 channel; the nested records are the frame types of docs/protocol.md, section 5.</summary>
/// <remarks>
/// <c>Data</c> members hold the application's payload as raw UTF-8 JSON, copied once out of the receive buffer,
/// so that the receiving application deserializes it to its own type; an absent <c>data</c> decodes as <c>null</c>.
/// Record equality compares those buffers by reference, not by content.
/// </remarks>
internal abstract partial record Envelope
{
    private protected Envelope(string type) => Type = type;

    /// <summary>The frame type as written in <c>"t"</c>; empty for a <see cref="Raw"/> message.</summary>
    [JsonPropertyName("t"), JsonPropertyOrder(-1)]
    public string Type { get; }
}
