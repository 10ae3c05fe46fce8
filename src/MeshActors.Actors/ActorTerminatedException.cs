namespace MeshActors.Actors;

/// <summary>An operation needed an actor that has stopped (for instance an <c>Ask</c> to a dead actor, which fails at once).</summary>
public sealed class ActorTerminatedException(IActorRef actor, object? undelivered = null)
    : Exception($"Actor {actor.Path} is terminated.")
{
    /// <summary>The stopped actor.</summary>
    public IActorRef Actor { get; } = actor;

    /// <summary>
    /// For an <c>Ask</c> failed by a dead letter, the message that was not delivered: the question itself, or one that
    /// was sent on with the ask as its sender (a forward, or a message the recipient sent itself after it ran).
    /// </summary>
    public object? UndeliveredMessage { get; } = undelivered;
}
