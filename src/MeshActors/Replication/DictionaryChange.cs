namespace MeshActors.Replication;

/// <summary>A key of a <see cref="ReplicatedDictionary{T}"/> whose value changed on this replica, by a local or a remote write.</summary>
/// <param name="Key">The key.</param>
/// <param name="Kind">Set or removed.</param>
/// <param name="Value">The new value; default when removed.</param>
/// <param name="NodeId">The node that wrote the value now visible (of concurrent writes, the winner's).</param>
/// <param name="IsLocal">True when this node's own write caused it.</param>
public sealed record DictionaryChange<T>(string Key, DictionaryChangeKind Kind, T? Value, string NodeId, bool IsLocal);
