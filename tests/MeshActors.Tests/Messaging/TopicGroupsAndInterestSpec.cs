using System.Net;
using System.Threading.Channels;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Tests.Mesh;
using MeshActors.Tests.Peers;
using Xunit.Abstractions;

namespace MeshActors.Tests.Messaging;

using MeshActors.TestKit;

/// <summary>Topic groups and interest announcements between real nodes over real HTTP/2 on loopback.</summary>
public sealed class TopicGroupsAndInterestSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    [Fact]
    public async Task Round_robin_must_go_on_to_the_next_node_of_a_group_when_the_routes_change_for_another_topic()
    {
        var (publisher, worker1, worker2) = await StartConnected("publisher", "workers", "workers");
        var received = Channel.CreateUnbounded<(string Node, int Seq)>();
        foreach (var worker in new[] { worker1, worker2 })
        {
            await worker.Subscribe<int>("jobs", (n, _) =>
            {
                received.Writer.TryWrite((worker.Id, n));
                return default;
            }).Ready;
        }

        await AwaitConditionAsync(
            () => publisher.MessagingLayer.Routes.Current.Topic("jobs")?.Groups.Sum(group => group.Count) == 2,
            TestTimeouts.Default,
            message: "the publisher routing jobs to both workers");

        // Between two messages, something unrelated changes: this node subscribes to another topic (any subscription,
        // service or peer's announcement anywhere in the mesh does the same). The group "workers" stays as it is.
        var unrelated = CreateTestProbe();
        var order = new List<string>();
        for (var i = 0; i < 16; i++)
        {
            await publisher.PublishAsync("jobs", i);
            var (node, seq) = await received.Reader.ReadAsync().AsTask().WithTimeout();
            Assert.Equal(i, seq);
            order.Add(node == worker1.Id ? "w1" : "w2");
            await publisher.Subscribe("unrelated-" + i, unrelated.Ref).Ready;
        }

        // Round robin: each message to the next node of the group. 16 alternating picks by chance: 1 in 32,768.
        var repeats = Enumerable.Range(1, order.Count - 1).Count(i => order[i] == order[i - 1]);
        Assert.True(repeats == 0, $"the same worker got two messages in a row {repeats} times: {string.Join(" ", order)}");
    }

    [Fact]
    public async Task A_message_with_an_attachment_must_go_to_a_node_of_the_group_that_accepts_attachments()
    {
        var publisher = await Start("publisher", peers: new PeerOptions { LivenessTimeout = TimeSpan.FromMinutes(2) });
        var worker = await Start("workers");
        await WaitConnected(publisher, worker);
        var atWorker = Channel.CreateUnbounded<byte>();
        await worker.Subscribe<byte[]>("frames", (bytes, _) =>
        {
            atWorker.Writer.TryWrite(bytes[0]);
            return default;
        }).Ready;

        // A second node of the group "workers" that speaks the mesh protocol but did not announce "bin" (a peer in
        // another language, say): it can take JSON on "frames", not bytes.
        await using var noBin = await RawPeer.OpenAsync(new DnsEndPoint(publisher.Self.Host, publisher.Self.Port));
        Assert.IsType<Envelope.Hello>(await noBin.ReadAsync());
        await noBin.WriteAsync(new Envelope.Hello(Guid.NewGuid().ToString(), "workers", Capabilities: []));
        await noBin.WriteAsync(new Envelope.Interest(1, ["frames"], []));
        await AwaitConditionAsync(
            () => publisher.MessagingLayer.Routes.Current.Topic("frames")?.Groups.SingleOrDefault()?.Count == 2,
            TestTimeouts.Default,
            message: "the publisher routing frames to both nodes of the group");

        for (var i = 0; i < 10; i++)
            await publisher.PublishAsync("frames", new[] { (byte)i });

        // The group holds a node that can take each of them: none is lost.
        Assert.Equal(0, publisher.Stats.DroppedAttachments);
        for (var i = 0; i < 10; i++)
            Assert.Equal(i, await atWorker.Reader.ReadAsync().AsTask().WithTimeout());
    }

    [Fact]
    public async Task A_subscription_made_while_a_peers_queue_is_full_must_still_reach_that_peer_under_the_fail_policy()
    {
        var a = await Start("a", peers: new PeerOptions { OverflowPolicy = PeerOverflowPolicy.Fail, OutboundQueueCapBytes = 64 * 1024 });
        var b = await Start("b", messaging: new MessagingOptions { SubscriberBacklogLimit = 2 });
        await WaitConnected(a, b);

        // Hold b's channel from a (a callback subscriber that does not return stops it reading), then fill a's queue to b
        // up to its cap: publishes beyond it fail at once, as the policy says.
        var gate = new TaskCompletionSource();
        await b.Subscribe<string>("gate", async (_, _) => await gate.Task).Ready;
        await a.WaitForSubscriberAsync("gate", TestTimeouts.Default);
        var filler = new string('x', 512 * 1024);
        var sent = -1L;
        await AwaitConditionAsync(
            async () =>
            {
                try
                {
                    await a.PublishAsync("gate", filler);
                }
                catch (PeerQueueFullException)
                {
                }

                var peer = a.DescribePeers().Single(peer => peer.NodeId == b.Id);
                var stalled = peer.Stats.BytesSent == sent;
                sent = peer.Stats.BytesSent;
                return stalled && peer.QueuedBytes >= 64 * 1024;
            },
            TestTimeouts.Default,
            interval: TimeSpan.FromMilliseconds(100),
            message: "a's queue to b full and stalled");

        // a gets a subscriber while its queue to b is full, and b then catches up: the queue empties.
        var late = CreateTestProbe();
        await a.Subscribe("late", late.Ref).Ready;
        gate.SetResult();
        await AwaitConditionAsync(
            () => a.DescribePeers().Single(peer => peer.NodeId == b.Id).QueuedBytes == 0,
            TestTimeouts.Default,
            message: "a's queue to b drained");

        // b must hear of the subscription, and a publish from b reach it.
        await b.WaitForSubscriberAsync("late", TestTimeouts.Default);
        await b.PublishAsync("late", 1);
        Assert.Equal(1, late.ExpectMsg<TopicMessage>().Deserialize<int>());
    }
}
