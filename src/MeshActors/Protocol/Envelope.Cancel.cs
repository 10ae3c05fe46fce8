namespace MeshActors.Protocol;

internal abstract partial record Envelope
{
    /// <summary>The requester no longer waits for the answer to request <paramref name="Id"/>.</summary>
    public sealed record Cancel(long Id) : Envelope(WireNames.CancelType);
}
