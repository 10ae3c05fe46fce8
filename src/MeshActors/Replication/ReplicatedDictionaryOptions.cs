namespace MeshActors.Replication;

/// <summary>How one replicated dictionary merges and opens; immutable.</summary>
public sealed record ReplicatedDictionaryOptions<T>
{
    /// <summary>
    /// Picks the value of a key whose writes were concurrent; null (the default) keeps the winner's value (the highest
    /// Lamport stamp, then the highest replica id).
    /// </summary>
    /// <remarks>
    /// Every replica calls it on its own, whenever a key's set of concurrent writes changes, so it must be a pure,
    /// deterministic function of <see cref="DictionaryConflict{T}.Writes"/> (which come in the same order everywhere):
    /// no clock, no randomness, no node-local state. Then every replica that has seen the same writes shows the same
    /// value. Its result is shown, not written: the concurrent writes stay until the next write to the key replaces
    /// them. A remove among the writes comes with <see cref="DictionaryWrite{T}.Removed"/> set; the key is present with
    /// the resolver's value. A resolver that throws is logged and counted, and the winner's value is kept.
    /// </remarks>
    public Func<DictionaryConflict<T>, T>? Resolver { get; init; }

    /// <summary>How long opening waits for the state of the replicas already reachable (default 5 s); it then opens with what it has, and the rest merges as it arrives.</summary>
    public TimeSpan OpenTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The JSON one state message carries (default 256 KiB), or a peer's frame limit (its hello's <c>max_frame</c>) if less; a larger state goes in several, an entry larger than this in a message of its own.</summary>
    public int StateChunkBytes { get; init; } = 256 * 1024;

    /// <summary>Throws <see cref="ArgumentException"/> naming every setting out of range.</summary>
    internal void Validate()
    {
        if (OpenTimeout <= TimeSpan.Zero)
            throw new ArgumentException($"OpenTimeout ('{OpenTimeout}') must be positive.", nameof(OpenTimeout));
        if (StateChunkBytes < 1024)
            throw new ArgumentException($"StateChunkBytes ('{StateChunkBytes}') must be at least 1024.", nameof(StateChunkBytes));
    }
}
