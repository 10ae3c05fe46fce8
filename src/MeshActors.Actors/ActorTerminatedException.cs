namespace MeshActors.Actors;

/// <summary>An operation needed an actor that has stopped (for instance an <c>Ask</c> to a dead actor, which fails at once).</summary>
public sealed class ActorTerminatedException(IActorRef actor)
    : Exception($"Actor {actor.Path} is terminated.")
{
    /// <summary>The stopped actor.</summary>
    public IActorRef Actor { get; } = actor;
}
