using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Replication;
using Xunit.Abstractions;
using MeshActors.Tests.Mesh;

namespace MeshActors.Tests.Replication;

using MeshActors.TestKit;

/// <summary>
/// The re-sync a replica starts when another replica's node loses its last channel (docs/replication.md, "Deltas, at
/// most once; repaired by re-sync"): the write lost with that channel must reach it from the replicas that hold it.
/// </summary>
public sealed class ReplicaResyncSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    [Fact]
    public async Task A_write_whose_writer_closed_must_reach_a_replica_that_lost_it_when_the_other_replica_gets_that_write_only_after_the_loss()
    {
        var a = await Start("a");
        var b = await Start("b", messaging: new MessagingOptions { SubscriberBacklogLimit = 2 });
        var c = await Start("c", messaging: new MessagingOptions { SubscriberBacklogLimit = 2 });
        await WaitConnected(a, b, c);
        var atA = await a.OpenDictionaryAsync<string>("d");
        var atB = await Open<string>(b, "d");
        var atC = await Open<string>(c, "d");
        foreach (var node in new[] { a, b, c })
            await WaitForReplicas(node, "d", 2);

        // Hold b's and c's channels from a (a callback subscriber that does not return stops its channel reading).
        var gate = new TaskCompletionSource();
        await b.Subscribe<int>("gate", async (_, _) => await gate.Task).Ready;
        await c.Subscribe<int>("gate", async (_, _) => await gate.Task).Ready;
        await AwaitConditionAsync(
            () => (a.MessagingLayer.Routes.Current.Topic("gate")?.Groups.Sum(group => group.Count(candidate => !candidate.IsLocal)) ?? 0) == 2,
            TestTimeouts.Default,
            message: "a routes gate to b and c");
        for (var i = 0; i < 4; i++)
            await a.PublishAsync("gate", i);
        await AwaitConditionAsync(() => b.Stats.SubscribersBehind >= 1 && c.Stats.SubscribersBehind >= 1, TestTimeouts.Default, message: "b's and c's channels from a held");

        // a writes x (applied on a, queued for b and c, both copies written to the held channels), then closes.
        await atA.SetAsync("x", "written by a");
        await AwaitConditionAsync(
            () => a.DescribePeers().Where(peer => peer.NodeId == b.Id || peer.NodeId == c.Id).All(peer => peer.QueuedBytes == 0),
            TestTimeouts.Default,
            message: "a's queues to b and c written");
        await atA.DisposeAsync();

        // c's channel to a fails: c's copy of x is lost with it, and b and c re-sync as a's departure makes them (one
        // sends the other its state). b's copy of x is still in its held channel from a meanwhile.
        var statesBefore = atB.Stats.StatesSent + atC.Stats.StatesSent;
        ResetChannels(c, a);
        await AwaitConditionAsync(() => atB.Stats.StatesSent + atC.Stats.StatesSent > statesBefore, TestTimeouts.Default, message: "b and c to re-sync");
        Assert.False(atB.ContainsKey("x"));

        // b's channel from a reads on: b gets x. b and c stay connected and open, both replicas of d.
        gate.SetResult();
        await WaitFor(atB, "x", "written by a");
        await WaitConnected(a, b, c);

        await AwaitConditionAsync(
            () => atC.ContainsKey("x"),
            TestTimeouts.Default,
            message: $"c to hold x, as b does (b: {atB.Count} entries, c: {atC.Count}); b and c are connected open replicas and nothing more will ever re-sync them");
    }

    [Fact]
    public async Task A_write_whose_writer_closed_must_reach_a_replica_that_lost_it_with_the_writers_announcement_when_their_channel_fails()
    {
        var a = await Start("a");
        var b = await Start("b");
        var c = await Start("c", messaging: new MessagingOptions { SubscriberBacklogLimit = 2 });
        await WaitConnected(a, b, c);
        var atB = await Open<string>(b, "d");
        var atC = await Open<string>(c, "d");
        await WaitForReplicas(b, "d", 1);
        await WaitForReplicas(c, "d", 1);

        // Hold c's channel from a (a callback subscriber that does not return stops its channel reading).
        var gate = await HoldChannel(a, c);

        // a opens d (c's answer to its pull is in the held channel: a opens after its timeout), writes x and closes.
        // b gets x; c's copy, and a's announcement that it holds d, are in the held channel.
        var atA = await a.OpenDictionaryAsync("d", new ReplicatedDictionaryOptions<string> { OpenTimeout = TimeSpan.FromSeconds(1) });
        await atA.SetAsync("x", "written by a");
        await WaitFor(atB, "x", "written by a");
        await AwaitConditionAsync(() => a.DescribePeers().Single(peer => peer.NodeId == c.Id).QueuedBytes == 0, TestTimeouts.Default, message: "a's queue to c written");
        await atA.DisposeAsync();

        // c's channel to a fails: x is lost with it. b holds x and stays connected to c, both open replicas of d.
        ResetChannels(c, a);
        gate.SetResult();
        await WaitConnected(a, b, c);

        await AwaitConditionAsync(
            () => atC.ContainsKey("x"),
            TestTimeouts.Default,
            message: $"c to hold x, as b does (b: {atB.Count} entries, c: {atC.Count}); a's replica never reached c's routes, so its lost channel re-synced nothing");
    }
}
