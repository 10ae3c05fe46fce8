namespace MeshActors.Replication;

/// <summary>The merge rule of one key: the concurrent writes nobody has overwritten yet (a multi-value register).</summary>
/// <remarks>
/// A key holds one version, or several when writes were concurrent (siblings), kept in <see cref="ReplicaVersion{T}.Order"/>.
/// Merging is a join: the result depends only on the set of writes seen, never on their order or on duplicates,
/// so replicas that have seen the same writes hold the same siblings.
/// </remarks>
internal static class Siblings
{
    /// <summary>The siblings once <paramref name="incoming"/> is merged; null when it adds nothing (it is known, or an overwritten write).</summary>
    public static ReplicaVersion<T>[]? Merge<T>(ReplicaVersion<T>[] current, ReplicaVersion<T> incoming)
    {
        foreach (var sibling in current)
        {
            if (sibling.Vector.Compare(incoming.Vector) is Causality.After or Causality.Equal)
                return null;
        }

        var merged = current.Where(sibling => sibling.Vector.Compare(incoming.Vector) == Causality.Concurrent).Append(incoming).ToArray();
        Array.Sort(merged, ReplicaVersion<T>.Order);
        return merged;
    }

    /// <summary>The vector a new write must extend: everything the siblings have seen.</summary>
    public static VersionVector Seen<T>(ReplicaVersion<T>[] siblings) =>
        siblings.Aggregate(VersionVector.Empty, (seen, sibling) => seen.Join(sibling.Vector));

    /// <summary>The write that wins a conflict: the highest stamp, then the highest replica id.</summary>
    public static ReplicaVersion<T> Winner<T>(ReplicaVersion<T>[] siblings) => siblings[^1];
}
