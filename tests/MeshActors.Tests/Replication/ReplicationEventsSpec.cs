using System.Collections.Concurrent;
using MeshActors.Peers;
using MeshActors.Replication;
using Xunit.Abstractions;
using MeshActors.Tests.Mesh;

namespace MeshActors.Tests.Replication;

using MeshActors.TestKit;

/// <summary>Replicas on real nodes whose partitions heal, and whose node stops: what a replica and a counter report must be what they show, and a stopped node must not leave a replica spinning.</summary>
public sealed class ReplicationEventsSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    [Fact]
    public async Task A_replica_must_not_report_changes_to_a_key_whose_visible_value_a_healed_partitions_state_leaves_as_it_was()
    {
        // Three nodes that cannot see each other. b sets k and removes it; a sets k: concurrent with b's remove, which
        // has the higher stamp (2 against 1) and wins: k is absent on a and b once they meet.
        var a = await Start("a");
        var b = await Start("b", prefix: Prefix + "-b");
        var c = await Start("c", prefix: Prefix + "-c");
        var atA = await Open<string>(a, "d");
        var atB = await Open<string>(b, "d");
        var atC = await Open<string>(c, "d");
        await atB.SetAsync("k", "b0");
        Assert.True(await atB.RemoveAsync("k"));
        await atA.SetAsync("k", "x");
        b.Peers.Tell(new PeerManagerActor.ConnectPeer(a.Self.Host, a.Self.Port));
        await AwaitConditionAsync(
            () => atA.Conflicts.ContainsKey("k") && atB.Conflicts.ContainsKey("k") && !atA.ContainsKey("k") && !atB.ContainsKey("k"),
            TestTimeouts.Default,
            message: "a and b met: k's set and remove stand side by side, the remove winning");

        // c never had k. Everything it reports from here on, in order, with what it showed at each report.
        var changes = new ConcurrentQueue<(DictionaryChange<string> Change, bool Shown, string? ShownValue)>();
        using var onChanged = atC.OnChanged(change => changes.Enqueue((change, atC.TryGetValue(change.Key, out var shown), shown)));
        var watcher = CreateTestProbe();
        atC.Actor.Tell(new WatchDictionary(watcher.Ref), watcher.Ref);
        watcher.ExpectMsg<DictionaryWatched>();

        // The partition heals: c gets a's state, holding both of k's writes in one message.
        c.Peers.Tell(new PeerManagerActor.ConnectPeer(a.Self.Host, a.Self.Port));
        await AwaitConditionAsync(() => atC.Conflicts.ContainsKey("k"), TestTimeouts.Default, message: "k's conflict merged on c");
        await atA.SetAsync("marker", "m"); // a delta behind a's state on the same channel: every event of the state comes before it
        var events = await watcher.ReceiveWhileAsync<object>(
            happened => happened is not DictionaryChange<string> { Key: "marker" }, TestTimeouts.Default);

        // k was absent on c before the state and is absent after it: its visible value never changed, so no change may be
        // reported; a "Set x" that was never shown and a "Removed" of a key that was never there are both wrong.
        Assert.False(atC.ContainsKey("k"));
        var aboutK = events.Where(happened => happened is DictionaryChange<string> { Key: "k" } or DictionaryConflict<string> { Key: "k" }).ToList();
        Assert.True(
            aboutK.Count == 1 && aboutK[0] is DictionaryConflict<string>,
            "c's watcher got, for k: " + string.Join(", ", aboutK.Select(Describe))
            + "; its OnChanged handler got: " + string.Join(", ", changes.Where(seen => seen.Change.Key == "k").Select(seen => $"{Describe(seen.Change)} while k {(seen.Shown ? "showed " + seen.ShownValue : "was absent")}")));
    }

    [Fact]
    public async Task A_shared_counters_handler_must_hear_a_new_total_once_when_a_healed_partition_brings_several_increments_together()
    {
        // a holds the counter alone; b and b2, in a mesh of their own, each increment it: b's replica holds both components.
        var a = await Start("a");
        var b = await Start("b", prefix: Prefix + "-b");
        var b2 = await Start("b2", prefix: Prefix + "-b");
        await WaitConnected(b, b2);
        await using var atA = await a.OpenCounterAsync("visits");
        await using var atB = await b.OpenCounterAsync("visits");
        await using var atB2 = await b2.OpenCounterAsync("visits");
        await WaitForReplicas(b, SharedObjects.CounterPrefix + "visits", 1);
        await WaitForReplicas(b2, SharedObjects.CounterPrefix + "visits", 1);
        await atA.IncrementAsync(1);
        await atB.IncrementAsync(2);
        await atB2.IncrementAsync(3);
        await AwaitConditionAsync(() => atB.Value == 5, TestTimeouts.Default, message: "5 on b");

        var totals = new ConcurrentQueue<long>();
        using var onChanged = atA.OnChanged(totals.Enqueue);

        // The partition heals: a gets b's state, both of b's components in one message; its total goes from 1 to 6, once.
        b.Peers.Tell(new PeerManagerActor.ConnectPeer(a.Self.Host, a.Self.Port));
        await AwaitConditionAsync(() => atA.Value == 6, TestTimeouts.Default, message: "6 on a");
        await atB.IncrementAsync(4); // a delta behind b's state: once a reports 10, every report of the state came before it
        await AwaitConditionAsync(() => totals.Contains(10), TestTimeouts.Default, message: "10 reported on a");

        Assert.Equal([6L, 10L], totals);
    }

    private static string Describe(object happened) => happened switch
    {
        DictionaryChange<string> change => $"{change.Kind} {change.Value ?? "(none)"}",
        DictionaryConflict<string> conflict => $"conflict of {conflict.Writes.Count} writes",
        _ => happened.ToString() ?? "?",
    };
}
