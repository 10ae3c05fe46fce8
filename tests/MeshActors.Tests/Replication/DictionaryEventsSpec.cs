using System.Collections.Concurrent;
using MeshActors.Actors;
using MeshActors.Peers;
using MeshActors.Replication;
using Xunit.Abstractions;
using MeshActors.Tests.Mesh;

namespace MeshActors.Tests.Replication;

using MeshActors.TestKit;

/// <summary>What applications see of a replica: its actor-level API, its events, and its resolver, between real nodes.</summary>
public sealed class DictionaryEventsSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    [Fact]
    public async Task A_replica_must_refuse_a_watch_without_a_watcher_and_go_on_replicating_its_writes()
    {
        var (a, b) = await StartConnected("a", "b");
        var atA = await Open<int>(a, "d");
        var atB = await Open<int>(b, "d");
        await WaitForReplicas(a, "d", 1);
        var asker = CreateTestProbe();

        atA.Actor.Tell(new WatchDictionary(null!), asker.Ref); // a malformed message from an application actor

        await atA.SetAsync("x", 1); // must still be applied, queued and answered
        await WaitFor(atB, "x", 1);
        asker.ExpectMsg<Status.Failure>(failure => failure.Cause is ArgumentException);
    }

    [Fact]
    public async Task Concurrent_removes_of_one_key_must_leave_it_absent_under_a_resolver()
    {
        // The resolver of docs/replication.md, Conflicts: "the larger of two numbers".
        var options = new ReplicatedDictionaryOptions<int> { Resolver = conflict => conflict.Writes.Max(write => write.Value) };
        var (a, b) = await StartConnected("a", "b");
        var atA = await Open(a, "d", options);
        var atB = await Open(b, "d", options);
        await WaitForReplicas(a, "d", 1);
        await WaitForReplicas(b, "d", 1);
        await atA.SetAsync("k", 5);
        await WaitFor(atB, "k", 5);

        // Hold b's actor in a handler, so that b removes k before it sees a's remove, and a before it sees b's.
        using var release = new ManualResetEventSlim();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var blocking = atB.OnChanged(change =>
        {
            if (change.Key != "block")
                return;
            entered.TrySetResult();
            release.Wait();
        });
        var blocked = atB.SetAsync("block", 1);
        await entered.Task.WithTimeout();
        var remover = CreateTestProbe();
        atB.Actor.Tell(new DictionaryRemove("k"), remover.Ref); // queued on b before a's remove can arrive
        Assert.True(await atA.RemoveAsync("k"));
        release.Set();
        await blocked;
        remover.ExpectMsg(new DictionaryWritten("k", Changed: true));

        await AwaitConditionAsync(() => atA.Stats.Conflicts == 1 && atB.Stats.Conflicts == 1, TestTimeouts.Default, message: "the two removes met on both nodes");

        // Both nodes removed k, and nobody wrote it since: it must not come back (here with the resolver's 0).
        Assert.False(atA.ContainsKey("k"), $"k came back on a as {atA.Snapshot.GetValueOrDefault("k")}");
        Assert.False(atB.ContainsKey("k"), $"k came back on b as {atB.Snapshot.GetValueOrDefault("k")}");
    }

    [Fact]
    public async Task A_resolver_that_throws_must_still_report_the_winners_value_that_replaces_its_own_as_a_change()
    {
        var options = new ReplicatedDictionaryOptions<string>
        {
            Resolver = conflict => conflict.Writes.Any(write => write.Value == "boom")
                ? throw new InvalidOperationException("a resolver's bug")
                : string.Join("|", conflict.Writes.Select(write => write.Value).Order(StringComparer.Ordinal)),
        };

        // Three nodes that cannot see each other; a and b write k twice, d once (the lowest stamp: never the winner).
        var a = await Start("a");
        var b = await Start("b", prefix: Prefix + "-apart");
        var d = await Start("d", prefix: Prefix + "-apart2");
        var atA = await Open(a, "d", options);
        var atB = await Open(b, "d", options);
        var atD = await Open(d, "d", options);
        await atA.SetAsync("k", "a1");
        await atA.SetAsync("k", "x");
        await atB.SetAsync("k", "b1");
        await atB.SetAsync("k", "y");
        await atD.SetAsync("k", "boom");
        var changes = new ConcurrentQueue<string?>();
        var conflicts = new ConcurrentQueue<DictionaryConflict<string>>();
        using var onChange = atA.OnChanged(change => changes.Enqueue(change.Value));
        using var onConflict = atA.OnConflict(conflicts.Enqueue);

        b.Peers.Tell(new PeerManagerActor.ConnectPeer(a.Self.Host, a.Self.Port));
        await WaitFor(atA, "k", "x|y"); // resolved
        await AwaitConditionAsync(() => changes.LastOrDefault() == "x|y", TestTimeouts.Default, message: "the resolved value reported on a");

        d.Peers.Tell(new PeerManagerActor.ConnectPeer(a.Self.Host, a.Self.Port));
        await AwaitConditionAsync(() => atA.Stats.ResolverFailures == 1, TestTimeouts.Default, message: "the resolver failed on a");
        var failed = conflicts.Last();
        Assert.False(failed.Resolved);
        Assert.Equal(failed.Winner.Value, atA["k"]); // the winner's value is shown now, not "x|y"

        await AwaitConditionAsync(
            () => changes.LastOrDefault() == failed.Winner.Value,
            TestTimeouts.Default,
            message: $"a change to {failed.Winner.Value} reported on a (changes seen: {string.Join(", ", changes)})");
    }
}
