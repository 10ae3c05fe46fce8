using System.Text.Json;

namespace MeshActors.Replication;

/// <summary>One write to one key, as every replica keeps and sends it: who wrote it, what it had seen, its Lamport stamp, and the value or a tombstone.</summary>
/// <param name="Replica">The writing replica: a fresh id each time a node opens the dictionary, so a reopened replica never reuses old counts.</param>
/// <param name="Node">The id of the node that wrote it.</param>
/// <param name="Vector">The writes to this key the writer had seen, its own write included.</param>
/// <param name="Stamp">The Lamport stamp: higher than every stamp the writer had seen.</param>
/// <param name="Removed">True for a tombstone (a remove).</param>
/// <param name="Raw">The value as JSON, sent on as is; <c>null</c> JSON for a tombstone.</param>
/// <param name="Value">The value read as the dictionary's type; default for a tombstone.</param>
internal sealed record ReplicaVersion<T>(string Replica, string Node, VersionVector Vector, long Stamp, bool Removed, JsonElement Raw, T? Value)
{
    /// <summary>The order that decides a conflict, and in which concurrent writes are listed: by stamp, then by replica id (ordinal); never by wall clock.</summary>
    public static int Order(ReplicaVersion<T> x, ReplicaVersion<T> y)
    {
        var byStamp = x.Stamp.CompareTo(y.Stamp);
        return byStamp != 0 ? byStamp : string.CompareOrdinal(x.Replica, y.Replica);
    }
}
