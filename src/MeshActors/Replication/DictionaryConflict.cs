namespace MeshActors.Replication;

/// <summary>Writes to one key that were concurrent (neither writer had seen the other's), as this replica found them.</summary>
/// <param name="Key">The key.</param>
/// <param name="Writes">Every concurrent write not yet overwritten, in the order that decides the winner (the last one wins).</param>
/// <param name="Winner">The write kept without a resolver: the highest Lamport stamp, then the highest replica id.</param>
/// <param name="Value">The value the key now has: the winner's, or the resolver's result.</param>
/// <param name="Resolved">True when <see cref="ReplicatedDictionaryOptions{T}.Resolver"/> chose <see cref="Value"/>.</param>
public sealed record DictionaryConflict<T>(string Key, IReadOnlyList<DictionaryWrite<T>> Writes, DictionaryWrite<T> Winner, T? Value, bool Resolved);
