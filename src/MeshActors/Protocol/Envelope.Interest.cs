using System.Text.Json.Serialization;

namespace MeshActors.Protocol;

internal abstract partial record Envelope
{
    /// <summary>The full set of topics and services the sender has; a receiver keeps only the highest <paramref name="Version"/> per node.</summary>
    public sealed record Interest(
        [property: JsonPropertyName("ver"), JsonPropertyOrder(0)] long Version,
        [property: JsonPropertyName("topics"), JsonPropertyOrder(1)] IReadOnlyList<string> Topics,
        [property: JsonPropertyName("services"), JsonPropertyOrder(2)] IReadOnlyList<string> Services) : Envelope(WireNames.InterestType);
}
