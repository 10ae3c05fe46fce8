namespace MeshActors.Protocol;

internal abstract partial record Envelope
{
    /// <summary>An application message without a type, as plain Marketrix peers send them; <paramref name="Json"/> is the whole payload.</summary>
    public sealed record Raw(ReadOnlyMemory<byte> Json) : Envelope("");
}
