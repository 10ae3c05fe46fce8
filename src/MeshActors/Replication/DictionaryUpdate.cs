namespace MeshActors.Replication;

/// <summary>Sets <paramref name="Key"/> to what <paramref name="Update"/> makes of its value here (default when absent), atomically on this replica; answered with <see cref="DictionaryValue{T}"/> holding the new value.</summary>
/// <remarks>Atomic against this node's other writes only: an update on another node at the same time is a concurrent write (a conflict). <paramref name="Update"/> runs on the replica's actor: keep it short. An exception it throws is the answer (a <c>Status.Failure</c>).</remarks>
public sealed record DictionaryUpdate<T>(string Key, Func<T?, T> Update);
