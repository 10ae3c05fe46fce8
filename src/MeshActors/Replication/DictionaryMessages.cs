using MeshActors.Actors;

namespace MeshActors.Replication;

/// <summary>Sets <paramref name="Key"/> to <paramref name="Value"/> on a <see cref="ReplicatedDictionary{T}"/>'s actor; answered with <see cref="DictionaryWritten"/> once applied here and queued for the other replicas.</summary>
public sealed record DictionarySet<T>(string Key, T Value);

/// <summary>Sets <paramref name="Key"/> to what <paramref name="Update"/> makes of its value here (default when absent), atomically on this replica; answered with <see cref="DictionaryValue{T}"/> holding the new value.</summary>
/// <remarks>Atomic against this node's other writes only: an update on another node at the same time is a concurrent write (a conflict). <paramref name="Update"/> runs on the replica's actor: keep it short. An exception it throws is the answer (a <c>Status.Failure</c>).</remarks>
public sealed record DictionaryUpdate<T>(string Key, Func<T?, T> Update);

/// <summary>Removes <paramref name="Key"/> (a tombstone that replicates); answered with <see cref="DictionaryWritten"/>.</summary>
public sealed record DictionaryRemove(string Key);

/// <summary>The answer to <see cref="DictionarySet{T}"/> and <see cref="DictionaryRemove"/>.</summary>
/// <param name="Key">The key written.</param>
/// <param name="Changed">False for a remove of a key that was not there (nothing was written).</param>
public sealed record DictionaryWritten(string Key, bool Changed);

/// <summary>Asks for the value of <paramref name="Key"/>; answered with <see cref="DictionaryValue{T}"/>.</summary>
public sealed record DictionaryGet(string Key);

/// <summary>The answer to <see cref="DictionaryGet"/>.</summary>
public sealed record DictionaryValue<T>(string Key, bool Found, T? Value);

/// <summary>Sends every <see cref="DictionaryChange{T}"/> and <see cref="DictionaryConflict{T}"/> of this replica to <paramref name="Watcher"/> until it stops or unwatches; answered with <see cref="DictionaryWatched"/>.</summary>
public sealed record WatchDictionary(IActorRef Watcher);

/// <summary>Stops sending changes to <paramref name="Watcher"/>.</summary>
public sealed record UnwatchDictionary(IActorRef Watcher);

/// <summary>The answer to <see cref="WatchDictionary"/>: changes from here on reach the watcher.</summary>
public sealed record DictionaryWatched(IActorRef Watcher);
