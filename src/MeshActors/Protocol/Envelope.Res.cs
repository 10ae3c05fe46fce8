namespace MeshActors.Protocol;

internal abstract partial record Envelope
{
    /// <summary>The successful answer to the <see cref="Req"/> with the same <paramref name="Id"/>.</summary>
    public sealed record Res(long Id, ReadOnlyMemory<byte> Data) : Envelope(WireNames.ResType)
    {
        /// <summary>Binary data sent as the next frame; empty when none.</summary>
        public ReadOnlyMemory<byte> Attachment { get; init; }
    }
}
