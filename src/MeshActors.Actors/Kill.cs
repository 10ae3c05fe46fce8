using MeshActors.Actors.Internal;

namespace MeshActors.Actors;

/// <summary>Makes the receiving actor fail with <see cref="ActorKilledException"/>, which its supervisor decides about (stop, by default).</summary>
public sealed class Kill : IAutoReceivedMessage
{
    private Kill()
    {
    }

    /// <summary>The only instance.</summary>
    public static Kill Instance { get; } = new();

    /// <inheritdoc />
    public override string ToString() => "<Kill>";
}
