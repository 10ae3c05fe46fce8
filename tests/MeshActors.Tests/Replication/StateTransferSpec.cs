using System.Text.Json;
using MeshActors.Messaging;
using MeshActors.Peers;
using Xunit.Abstractions;

namespace MeshActors.Tests.Replication;

using MeshActors.TestKit;

/// <summary>How a replica answers pulls: no pull kept for a node that left.</summary>
public sealed class StateTransferSpec(ITestOutputHelper output) : ReplicationMesh(output)
{
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

    private static bool IsDeltaOf(TopicMessage message, string key) =>
        Kind(message) == "delta" && Read(message).GetProperty("entries")[0].GetProperty("key").GetString() == key;

    private static JsonElement Read(TopicMessage message) => JsonDocument.Parse(message.Data).RootElement;
}
