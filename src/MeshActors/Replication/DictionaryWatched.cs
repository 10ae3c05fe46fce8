using MeshActors.Actors;

namespace MeshActors.Replication;

/// <summary>The answer to <see cref="WatchDictionary"/>: changes from here on reach the watcher.</summary>
public sealed record DictionaryWatched(IActorRef Watcher);
