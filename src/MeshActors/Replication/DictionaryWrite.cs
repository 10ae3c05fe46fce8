namespace MeshActors.Replication;

/// <summary>One of the concurrent writes of a conflict.</summary>
/// <param name="NodeId">The node that wrote it.</param>
/// <param name="Removed">True when the write was a remove.</param>
/// <param name="Value">The value written; default for a remove.</param>
/// <param name="Stamp">Its Lamport stamp, which (with its replica id) decides the winner.</param>
public sealed record DictionaryWrite<T>(string NodeId, bool Removed, T? Value, long Stamp);
