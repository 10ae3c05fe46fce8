namespace MeshActors.Actors;

/// <summary>An immutable, thread-safe handle to an actor: the only way to talk to it.</summary>
/// <remarks>Two references are equal when they point to the same incarnation (same path and uid).</remarks>
public interface IActorRef : IEquatable<IActorRef>
{
    /// <summary>Where the actor lives in its system's hierarchy; <see cref="ActorPath.Uid"/> names the incarnation.</summary>
    ActorPath Path { get; }

    /// <summary>
    /// Enqueues <paramref name="message"/> and returns at once. Without <paramref name="sender"/>, the sender is the
    /// actor whose message is being processed on this thread (<c>Self</c>), or no sender outside of actors.
    /// </summary>
    void Tell(object message, IActorRef? sender = null);
}
