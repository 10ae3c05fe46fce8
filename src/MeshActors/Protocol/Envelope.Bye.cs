using System.Text.Json.Serialization;

namespace MeshActors.Protocol;

internal abstract partial record Envelope
{
    /// <summary>An orderly goodbye: the sender sends nothing after it and ends its body.</summary>
    public sealed record Bye([property: JsonPropertyName("reason")] string Reason) : Envelope(WireNames.ByeType)
    {
        /// <summary>The reason given by a node that is stopping.</summary>
        public const string Shutdown = "shutdown";

        /// <summary>The reason given on the channel that loses when two nodes dialled each other.</summary>
        public const string Duplicate = "duplicate";
    }
}
