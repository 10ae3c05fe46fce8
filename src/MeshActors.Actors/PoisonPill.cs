using MeshActors.Actors.Internal;

namespace MeshActors.Actors;

/// <summary>Stops the receiving actor once it reaches this message; messages queued before it are processed first.</summary>
public sealed class PoisonPill : IAutoReceivedMessage
{
    private PoisonPill()
    {
    }

    /// <summary>The only instance.</summary>
    public static PoisonPill Instance { get; } = new();

    /// <inheritdoc />
    public override string ToString() => "<PoisonPill>";
}
