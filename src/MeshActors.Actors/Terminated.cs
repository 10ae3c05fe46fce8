namespace MeshActors.Actors;

/// <summary>Tells a watcher (see <see cref="IActorContext.Watch"/>) that the watched actor has stopped; delivered exactly once per watch.</summary>
/// <param name="ActorRef">The actor that stopped.</param>
/// <remarks>A <see cref="Terminated"/> forwarded or sent by an actor is an ordinary message.</remarks>
public sealed record Terminated(IActorRef ActorRef);
