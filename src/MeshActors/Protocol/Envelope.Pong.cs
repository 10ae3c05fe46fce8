namespace MeshActors.Protocol;

internal abstract partial record Envelope
{
    /// <summary>The answer to a <see cref="Ping"/>, echoing its <paramref name="Value"/>.</summary>
    public sealed record Pong(long Value) : Envelope(WireNames.PongType);
}
