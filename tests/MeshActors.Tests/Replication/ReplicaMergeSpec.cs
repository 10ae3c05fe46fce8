using System.Text.Json;
using MeshActors.Replication;

namespace MeshActors.Tests.Replication;

/// <summary>The merge rule alone: version vectors, and siblings that depend only on the writes seen, not on their order or duplicates.</summary>
public sealed class ReplicaMergeSpec
{
    private static readonly ReplicaVersion<string> A1 = Version("r1", ("r1", 1), 1, "a1");
    private static readonly ReplicaVersion<string> B1 = Version("r2", ("r2", 1), 1, "b1");
    private static readonly ReplicaVersion<string> CAfterA1 = Version("r3", [("r1", 1), ("r3", 1)], 2, "c");
    private static readonly ReplicaVersion<string> DAfterA1B1 = Version("r1", [("r1", 2), ("r2", 1)], 3, "d");
    private static readonly ReplicaVersion<string> Tombstone = Version("r2", [("r1", 2), ("r2", 2), ("r3", 1)], 4, null);

    [Fact]
    public void Version_vectors_must_tell_equal_before_after_and_concurrent()
    {
        Assert.Equal(Causality.Equal, A1.Vector.Compare(VersionVector.From([new("r1", 1)])));
        Assert.Equal(Causality.After, CAfterA1.Vector.Compare(A1.Vector));
        Assert.Equal(Causality.Before, A1.Vector.Compare(DAfterA1B1.Vector));
        Assert.Equal(Causality.Concurrent, A1.Vector.Compare(B1.Vector));
        Assert.Equal(Causality.Concurrent, CAfterA1.Vector.Compare(DAfterA1B1.Vector));
        Assert.Equal("{r1: 2, r2: 1, r3: 1}", CAfterA1.Vector.Join(DAfterA1B1.Vector).ToString());
        Assert.Equal(3, A1.Vector.Increment("r1").Increment("r1")["r1"]);
    }

    [Fact]
    public void A_count_must_never_wrap_when_a_replica_writes_again()
    {
        var full = VersionVector.From([new("r1", long.MaxValue)]);

        Assert.Throws<OverflowException>(() => full.Increment("r1"));
    }

    [Fact]
    public void Merging_must_give_the_same_siblings_in_every_order_and_with_duplicates()
    {
        ReplicaVersion<string>[] writes = [A1, B1, CAfterA1, DAfterA1B1, A1, CAfterA1];
        var results = Permutations(writes).Select(order => Describe(order.Aggregate(Array.Empty<ReplicaVersion<string>>(), (siblings, write) => Siblings.Merge(siblings, write) ?? siblings))).Distinct().ToList();

        // c and d are concurrent; a1 and b1 are overwritten by d; the higher stamp (d) wins.
        Assert.Equal(["c,d"], results);
    }

    [Fact]
    public void A_write_that_saw_every_sibling_must_replace_them_all_and_a_dominated_one_must_change_nothing()
    {
        var siblings = Siblings.Merge(Siblings.Merge([], CAfterA1)!, DAfterA1B1)!;

        Assert.Equal("c,d", Describe(siblings));
        Assert.Equal("d", Siblings.Winner(siblings).Value);
        Assert.Null(Siblings.Merge(siblings, A1));
        Assert.Null(Siblings.Merge(siblings, DAfterA1B1));
        var removed = Siblings.Merge(siblings, Tombstone)!;
        Assert.True(Assert.Single(removed).Removed);
        Assert.Equal("{r1: 2, r2: 1, r3: 1}", Siblings.Seen(siblings).ToString());
    }

    [Fact]
    public void Equal_stamps_must_be_decided_by_the_replica_id_never_by_arrival()
    {
        var low = Version("aaa", ("aaa", 1), 5, "low");
        var high = Version("bbb", ("bbb", 1), 5, "high");

        Assert.Equal("high", Siblings.Winner(Siblings.Merge(Siblings.Merge([], low)!, high)!).Value);
        Assert.Equal("high", Siblings.Winner(Siblings.Merge(Siblings.Merge([], high)!, low)!).Value);
    }

    private static string Describe(ReplicaVersion<string>[] siblings) => string.Join(",", siblings.Select(sibling => sibling.Value ?? "removed"));

    private static ReplicaVersion<string> Version(string replica, (string, long) count, long stamp, string? value) => Version(replica, [count], stamp, value);

    private static ReplicaVersion<string> Version(string replica, (string Replica, long Count)[] counts, long stamp, string? value) => new(
        replica,
        "node-" + replica,
        VersionVector.From(counts.Select(count => new KeyValuePair<string, long>(count.Replica, count.Count))),
        stamp,
        Removed: value is null,
        value is null ? default : JsonSerializer.SerializeToElement(value),
        value);

    private static IEnumerable<T[]> Permutations<T>(T[] items)
    {
        if (items.Length <= 1)
        {
            yield return items;
            yield break;
        }

        for (var i = 0; i < items.Length; i++)
        {
            var rest = items.Where((_, j) => j != i).ToArray();
            foreach (var tail in Permutations(rest))
                yield return [items[i], .. tail];
        }
    }
}
