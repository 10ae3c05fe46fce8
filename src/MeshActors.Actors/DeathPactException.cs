namespace MeshActors.Actors;

/// <summary>Thrown inside an actor that did not handle the <see cref="Terminated"/> of an actor it watched; the default decider stops it.</summary>
public sealed class DeathPactException(IActorRef deadActor)
    : Exception($"Monitored actor {deadActor.Path} terminated and the Terminated message was not handled.")
{
    /// <summary>The watched actor that stopped.</summary>
    public IActorRef DeadActor { get; } = deadActor;
}
