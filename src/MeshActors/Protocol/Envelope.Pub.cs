namespace MeshActors.Protocol;

internal abstract partial record Envelope
{
    /// <summary>A message on a topic, fire and forget.</summary>
    public sealed record Pub(string Topic, ReadOnlyMemory<byte> Data) : Envelope(WireNames.PubType)
    {
        /// <summary>Binary data sent as the next frame; empty when none.</summary>
        public ReadOnlyMemory<byte> Attachment { get; init; }

        /// <summary>The trace context of the span that published it; null when none.</summary>
        public TraceContext? Trace { get; init; }
    }
}
