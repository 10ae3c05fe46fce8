namespace MeshActors.Protocol;

internal abstract partial record Envelope
{
    /// <summary>A heartbeat; the peer answers with a <see cref="Pong"/> carrying the same <paramref name="Value"/>.</summary>
    public sealed record Ping(long Value) : Envelope(WireNames.PingType);
}
