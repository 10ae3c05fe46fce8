using MeshActors.Actors;

namespace MeshActors.Replication;

/// <summary>Sends every <see cref="DictionaryChange{T}"/> and <see cref="DictionaryConflict{T}"/> of this replica to <paramref name="Watcher"/> until it stops or unwatches; answered with <see cref="DictionaryWatched"/>.</summary>
public sealed record WatchDictionary(IActorRef Watcher);
