using System.Text.Json;
using MeshActors.Messaging;
using MeshActors.Peers;
using Xunit.Abstractions;

namespace MeshActors.Tests.Replication;

using MeshActors.TestKit;

/// <summary>How a replica answers pulls: one state transfer at a time per asking node, and no pull kept for a node that left.</summary>
public sealed class StateTransferSpec(ITestOutputHelper output) : ReplicationMesh(output)
{
    [Fact]
    public async Task Pulls_that_arrive_while_a_state_goes_out_must_be_answered_by_one_more_state_not_one_each()
    {
        var a = await Start("a", peers: new PeerOptions { BackpressureBytes = 64 * 1024 });
        var b = await Start("b", messaging: new MessagingOptions { SubscriberBacklogLimit = 2 });
        await WaitConnected(a, b);
        var atA = await Open<string>(a, "d");
        await atA.SetAsync("k", "v");
        var spy = CreateTestProbe();
        await b.Subscribe("$dict/d", spy.Ref).Ready; // b is a replica in a's routes, one that pulls as often as it likes
        Assert.Equal("pull", Kind(spy.ExpectMsg<TopicMessage>())); // a asks b for its state, as it asks every replica that appears

        // Hold b's channel from a (a callback subscriber that does not return stops it reading), then fill a's queue to b:
        // a state to b now waits for room, under way until the gate opens.
        var gate = new TaskCompletionSource();
        await b.Subscribe<string>("gate", async (_, _) => await gate.Task).Ready;
        await a.WaitForSubscriberAsync("gate", TestTimeouts.Default);
        var filler = new string('x', 512 * 1024);
        var filling = Enumerable.Range(0, 64).Select(_ => a.PublishAsync("gate", filler).AsTask()).ToList();
        await WaitStalled(a, b, 64 * 1024);

        var pull = JsonElement.Parse("""{"v":1,"kind":"pull","replica":"greedy"}""");
        for (var i = 0; i < 20; i++)
            await b.PublishAsync("$dict/d", pull);

        // The first pull starts a state; the second makes one more due after it; the other 18 ride on that one.
        await AwaitConditionAsync(() => atA.Stats.PullsCoalesced == 18, TestTimeouts.Default, message: "18 pulls coalesced");
        Assert.Equal(1, Log.Count(8011, containing: b.Id));
        gate.SetResult();
        await Task.WhenAll(filling);
        await AwaitConditionAsync(() => atA.Stats.StatesSent == 2, TestTimeouts.Default, message: "two states sent");

        // A delta written now reaches b after every state a queued for it: exactly two.
        await atA.SetAsync("after", "w");
        var fromA = await spy.ReceiveWhileAsync<TopicMessage>(message => !IsDeltaOf(message, "after"), TestTimeouts.Default);
        spy.ExpectMsg<TopicMessage>(message => IsDeltaOf(message, "after"));
        Assert.Equal(2, fromA.Count(message => Kind(message) == "state" && Final(message)));
        Assert.Equal(2, atA.Stats.StatesSent);
        Assert.Equal(18, atA.Stats.PullsCoalesced);
        Assert.Equal(1, Log.Count(8011));
    }

    [Fact]
    public async Task A_pull_from_a_node_that_left_before_it_was_a_replica_here_must_not_be_answered_when_it_comes_back()
    {
        var (a, b) = await StartConnected("a", "b");
        var atA = await Open<string>(a, "d");
        await b.WaitForSubscriberAsync("$dict/d", TestTimeouts.Default);

        // b pulls, but is no replica in a's routes (it never announced the topic): a keeps the pull until it is. The delta
        // behind it on the same channel tells when a has it.
        await b.PublishAsync("$dict/d", JsonElement.Parse("""{"v":1,"kind":"pull","replica":"gone"}"""));
        await b.PublishAsync("$dict/d", JsonElement.Parse("""
            {"v":1,"kind":"delta","replica":"gone","entries":[{"key":"marker","versions":[{"replica":"gone","node":"n","vv":{"gone":1},"stamp":1,"value":"m"}]}]}
            """));
        await WaitFor(atA, "marker", "m");

        // b leaves (its last channel to a drops), comes back, and only then holds the topic: it never asked this time.
        var left = CreateTestProbe();
        a.System.EventStream.Subscribe<PeerDisconnected>(left.Ref);
        b.Peers.Tell(new PeerManagerActor.ResetChannels(a.Id));
        left.ExpectMsg<PeerDisconnected>(disconnected => disconnected.NodeId == b.Id);
        await WaitConnected(a, b);
        var spy = CreateTestProbe();
        await b.Subscribe("$dict/d", spy.Ref).Ready;

        Assert.Equal("pull", Kind(spy.ExpectMsg<TopicMessage>())); // a pulls the replica that appeared...
        await atA.SetAsync("after", "w");
        Assert.True(IsDeltaOf(spy.ExpectMsg<TopicMessage>(), "after"), "...and sends it no state: the pull of the node that left is forgotten");
        Assert.Equal(0, atA.Stats.StatesSent);
    }

    private static string Kind(TopicMessage message) => Read(message).GetProperty("kind").GetString()!;

    private static bool Final(TopicMessage message) => Read(message).TryGetProperty("final", out var final) && final.GetBoolean();

    private static bool IsDeltaOf(TopicMessage message, string key) =>
        Kind(message) == "delta" && Read(message).GetProperty("entries")[0].GetProperty("key").GetString() == key;

    private static JsonElement Read(TopicMessage message) => JsonDocument.Parse(message.Data).RootElement;
}
