using MeshActors.Actors;

namespace MeshActors.Replication;

/// <summary>Stops sending changes to <paramref name="Watcher"/>.</summary>
public sealed record UnwatchDictionary(IActorRef Watcher);
