namespace MeshActors.Actors;

/// <summary>
/// What an actor receives once it has gone the time set with <see cref="IActorContext.SetReceiveTimeout"/> without a
/// message; again after each further period of silence, until the timeout is cleared.
/// </summary>
public sealed class ReceiveTimeout
{
    private ReceiveTimeout()
    {
    }

    /// <summary>The only instance.</summary>
    public static ReceiveTimeout Instance { get; } = new();

    /// <inheritdoc />
    public override string ToString() => "<ReceiveTimeout>";
}
