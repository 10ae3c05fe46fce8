using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Replication;
using Xunit.Abstractions;
using MeshActors.Tests.Mesh;

namespace MeshActors.Tests.Replication;

using MeshActors.TestKit;

/// <summary>Shared objects and dictionaries at their edges: values near the frame limit reaching a replica that opens late, and values whose type has its own equality.</summary>
public sealed class SharedValueEdgeSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    private static readonly ProtocolOptions SmallFrames = new() { MaxFrameSize = ProtocolOptions.SmallestMaxFrameSize };

    [Fact]
    public async Task A_write_the_frame_limit_allows_must_reach_a_replica_that_opens_later_with_the_same_max_frame()
    {
        // Three nodes with the same max_frame (64 KiB): "only a replica whose max_frame is below the writer's" may miss an entry.
        var a = await Start("a", protocol: SmallFrames);
        var b = await Start("b", protocol: SmallFrames);
        var c = await Start("c", protocol: SmallFrames);
        await WaitConnected(a, b, c);
        var atA = await Open<string>(a, "d");
        var atB = await Open<string>(b, "d");
        await WaitForReplicas(a, "d", 1);

        // The largest write a accepts, found from the size its refusal of a larger one names.
        var tooLarge = await Assert.ThrowsAsync<ArgumentException>(() => atA.SetAsync("big", new string('x', 70_000)));
        var sizes = Regex.Match(tooLarge.Message, @"its delta is (\d+) bytes, above the (\d+) bytes");
        Assert.True(sizes.Success, tooLarge.Message);
        var big = new string('x', 70_000 - (int.Parse(sizes.Groups[1].Value) - int.Parse(sizes.Groups[2].Value)));
        while (await Record.ExceptionAsync(() => atA.SetAsync("big", big)) is ArgumentException)
            big = big[1..]; // the largest value a accepts: no larger than one whose delta fills the frame
        await atA.SetAsync("small", "s");
        await WaitFor(atB, "small", "s");
        Assert.True(atB.TryGetValue("big", out var atBBig) && atBBig == big, "b got the write as a delta");
        await WaitForReplicas(c, "d", 2);

        // c opens later, with the same max_frame as a and b: both hold the entry and must send it in their state.
        var atC = await Open(c, "d", new ReplicatedDictionaryOptions<string> { OpenTimeout = TimeSpan.FromSeconds(3) });

        Assert.Equal("s", atC["small"]);
        Assert.True(
            atC.TryGetValue("big", out var seen) && seen == big,
            $"a write accepted on a, and held by a and b, never reaches c: a's state left it out ({atA.Stats.SendFailures} send failures, "
            + $"{Log.Count(8009, containing: "big")} log lines 8009 about it): the value is {big.Length} characters, its delta the {sizes.Groups[2].Value} bytes "
            + "a pub may carry, and a state message holding the same entry alone is 13 bytes longer");
    }

    [Fact]
    public async Task Concurrent_writes_to_one_key_that_each_fit_a_frame_must_converge_on_every_replica_with_the_same_max_frame()
    {
        // a and c share a mesh; b is in a mesh of its own: a and b set k while they cannot see each other. Every node has
        // the same max_frame (64 KiB), and each write is about 40 KB: each delta, and each write alone in a state, fits
        // every frame; the two side by side do not.
        var a = await Start("a", protocol: SmallFrames);
        var c = await Start("c", protocol: SmallFrames);
        var b = await Start("b", prefix: Prefix + "-apart", protocol: SmallFrames);
        await WaitConnected(a, c);
        var atA = await Open<string>(a, "d");
        var atB = await Open<string>(b, "d");
        await atA.SetAsync("k", new string('a', 40_000));
        await atB.SetAsync("k", new string('b', 40_000));

        // The partition heals: a and b pull each other's state. At least one of them merges the other's single write first
        // (the other's state was encoded before it could hold both), so k's two writes stand side by side there.
        b.Peers.Tell(new PeerManagerActor.ConnectPeer(a.Self.Host, a.Self.Port));
        b.Peers.Tell(new PeerManagerActor.ConnectPeer(c.Self.Host, c.Self.Port));
        await WaitConnected(a, b, c);
        await AwaitConditionAsync(
            () => atA.Conflicts.ContainsKey("k") || atB.Conflicts.ContainsKey("k"),
            TestTimeouts.Default,
            message: "k's concurrent writes merged on a or b");
        await WaitForReplicas(c, "d", 2);

        // c opens later, with the same max_frame. Every replica has seen both writes, or can get them from another's state:
        // replicas that have seen the same writes hold the same data, and a re-sync brings what was written apart.
        var atC = await Open(c, "d", new ReplicatedDictionaryOptions<string> { OpenTimeout = TimeSpan.FromSeconds(3) });

        var replicas = new[] { ("a", atA), ("b", atB), ("c", atC) };
        var converged = await Record.ExceptionAsync(() => AwaitConditionAsync(
            () => replicas.All(replica => replica.Item2.Conflicts.TryGetValue("k", out var conflict) && conflict.Writes.Count == 2)
                  && replicas.All(replica => replica.Item2.TryGetValue("k", out var shown) && shown == atA["k"]),
            TestTimeouts.Default)) is null;

        Assert.True(
            converged,
            "the replicas never converge on k: "
            + string.Join("; ", replicas.Select(replica => $"{replica.Item1} holds {Describe(replica.Item2)}"))
            + $" (send failures on a: {atA.Stats.SendFailures}, on b: {atB.Stats.SendFailures}; log lines 8009 about k: {Log.Count(8009, containing: "'k'")}): "
            + "an entry whose concurrent writes are together above a frame is left out of every state whole");

        static string Describe(ReplicatedDictionary<string> replica) =>
            replica.Conflicts.TryGetValue("k", out var conflict)
                ? $"{conflict.Writes.Count} writes of k ({string.Join(", ", conflict.Writes.Select(write => write.Value![0]))})"
                : replica.TryGetValue("k", out var shown) ? $"one write of k ({shown[0]})" : "no k";
    }

    [Fact]
    public async Task A_shared_objects_value_must_be_the_last_one_set_when_its_type_compares_equal_by_identity()
    {
        var (a, b) = await StartConnected("a", "b");
        await using var atA = await a.OpenSharedObjectAsync<Account>("account");
        await using var atB = await b.OpenSharedObjectAsync<Account>("account");
        await WaitForReplicas(a, SharedObjects.ObjectPrefix + "account", 1);
        var changedAtB = new ConcurrentQueue<(decimal Reported, decimal? Shown)>();
        using var onChanged = atB.OnChanged(account => changedAtB.Enqueue((account.Balance, atB.Value?.Balance)));

        // An entity type: two accounts are the same account when their ids are (a common Equals override).
        await atA.SetAsync(new Account { Id = "acc-1", Balance = 10 });
        await atA.UpdateAsync(account => new Account { Id = account!.Id, Balance = account.Balance + 5 });

        Assert.Equal(15, atA.Value!.Balance); // "a write made here is visible as soon as its SetAsync completes"
        await AwaitConditionAsync(() => changedAtB.Count == 2, TestTimeouts.Default, message: "both changes reported on b");
        Assert.Equal([(10m, (decimal?)10m), (15m, 15m)], changedAtB);
        Assert.Equal(15, atB.Value!.Balance);
    }

    /// <summary>A value with entity equality: equal when the ids are, whatever the balance.</summary>
    public sealed class Account : IEquatable<Account>
    {
        public string Id { get; init; } = "";

        public decimal Balance { get; init; }

        public bool Equals(Account? other) => other is not null && other.Id == Id;

        public override bool Equals(object? obj) => Equals(obj as Account);

        public override int GetHashCode() => Id.GetHashCode(StringComparison.Ordinal);
    }

    // The snapshot is an ordinary ImmutableDictionary to its readers: its values compare as T's do.
    [Fact]
    public async Task A_dictionary_snapshot_must_report_the_values_it_holds()
    {
        var node = await Start("a");
        var stock = await Open<int>(node, "stock");

        await stock.SetAsync("apples", 12);
        var snapshot = stock.Snapshot;

        Assert.Equal(12, snapshot["apples"]);
        Assert.True(snapshot.ContainsValue(12), "Snapshot.ContainsValue(12) is false though Snapshot[\"apples\"] is 12");
        Assert.True(snapshot.Contains(KeyValuePair.Create("apples", 12)), "Snapshot.Contains((apples, 12)) is false");
        Assert.Same(snapshot, snapshot.SetItem("apples", 12)); // ImmutableDictionary: setting the value it holds is no change
    }
}
