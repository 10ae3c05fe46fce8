namespace MeshActors.Actors;

/// <summary>An actor failed while being created or restarted (constructor, <c>PreStart</c> or <c>PostRestart</c>); the default decider stops it.</summary>
public sealed class ActorInitializationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ActorInitializationException(IActorRef? actor, string message, Exception? cause = null)
        : base(message, cause) => Actor = actor;

    /// <summary>The actor that failed, when known.</summary>
    public IActorRef? Actor { get; }
}
