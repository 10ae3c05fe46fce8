namespace MeshActors.Protocol;

internal abstract partial record Envelope
{
    /// <summary>A request to a service; answered by exactly one <see cref="Res"/> or <see cref="Err"/> with the same <paramref name="Id"/>.</summary>
    public sealed record Req(long Id, string Service, ReadOnlyMemory<byte> Data) : Envelope(WireNames.ReqType)
    {
        /// <summary>How long the requester waits (whole milliseconds on the wire); null when it did not say.</summary>
        public TimeSpan? Timeout { get; init; }

        /// <summary>
        /// When the requester gives up (a <see cref="System.Diagnostics.Stopwatch"/> timestamp), or 0. When set, the frame
        /// says what remains until then when it is written, not <see cref="Timeout"/>: a request that waited in a backed-up
        /// queue must not reach its provider with a deadline later than its requester's.
        /// </summary>
        public long ExpiresAt { get; init; }

        /// <summary>Safe to run twice: the requester may resend it to another provider when this one fails.</summary>
        public bool Idempotent { get; init; }

        /// <summary>Binary data sent as the next frame; empty when none.</summary>
        public ReadOnlyMemory<byte> Attachment { get; init; }

        /// <summary>The trace context of the span that made the request; null when none.</summary>
        public TraceContext? Trace { get; init; }
    }
}
