using MeshActors.Messaging;
using MeshActors.Peers;
using Xunit.Abstractions;

namespace MeshActors.Tests.Mesh;

using MeshActors.TestKit;

/// <summary>End-to-end flow control across three nodes: a slow subscriber, the overflow policies, and what the counters say afterwards.</summary>
public sealed class FlowControlAcrossNodesSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    [Fact]
    public async Task A_request_waiting_for_room_in_a_provider_that_says_goodbye_must_go_to_another_provider_at_once()
    {
        // A long goodbye grace and liveness timeout: the channel to the leaving provider stays open meanwhile (as it does
        // while its requests are answered), so that nothing but the goodbye itself can end the request's wait for room.
        var grace = new PeerOptions { GoodbyeGrace = TimeSpan.FromMinutes(2), LivenessTimeout = TimeSpan.FromMinutes(2) };
        var a = await Start("a", messaging: new MessagingOptions { ServiceBalancer = new Tests.Messaging.PreferNode("b") }, peers: grace);
        var b = await Start("b", messaging: new MessagingOptions { SubscriberBacklogLimit = 10 }, peers: grace);
        var c = await Start("c");
        await WaitConnected(a, b, c);
        var gate = new TaskCompletionSource();
        await b.Subscribe<byte[]>("stuck", async (_, _) => await gate.Task).Ready;
        await b.AddService<int, string>("who", (_, _, _) => new ValueTask<string>("b")).Ready;
        await c.AddService<int, string>("who", (_, _, _) => new ValueTask<string>("c")).Ready;
        await AwaitConditionAsync(
            () => a.HasSubscribers("stuck") && a.MessagingLayer.Routes.Current.Service("who")?.Providers.Count == 2,
            TestTimeouts.Default, message: "a to route 'stuck' to b and 'who' to b and c");
        Task? stopping = null;
        try
        {
            // b's subscriber stops b reading its channel from a: a's queue to b backs up, and a request to b waits for room.
            await QueueBackup.PublishUntilStalledAsync(a, b.Id, "stuck");
            var call = a.RequestAsync<int, string>("who", 1, new RequestOptions { Timeout = TestTimeouts.Default });
            await AwaitConditionAsync(() => a.DescribePeers().Single(peer => peer.NodeId == b.Id).WaitingSenders == 1, TestTimeouts.Default,
                message: "the request to b to wait for room");

            // b leaves: its goodbye fails a's requests to it; the one still waiting for room was never sent.
            stopping = b.StopAsync();
            Assert.Equal("c", await call.WaitAsync(TestTimeouts.Long));
        }
        finally
        {
            gate.TrySetResult();
            if (stopping is not null)
                await stopping.WaitAsync(TestTimeouts.Long);
        }
    }

    [Fact]
    public async Task A_request_refused_by_a_full_queue_under_the_fail_policy_must_count_one_drop_and_queue_no_cancel()
    {
        const long cap = 1024 * 1024;
        var a = await Start("a", peers: new PeerOptions { OverflowPolicy = PeerOverflowPolicy.Fail, OutboundQueueCapBytes = cap });
        var b = await Start("b", messaging: new MessagingOptions { SubscriberBacklogLimit = 2, SubscriberBacklogBytes = 1 });
        await WaitConnected(a, b);
        var gate = new TaskCompletionSource();
        var delivered = 0;
        await b.Subscribe<byte[]>("stuck", async (_, _) =>
        {
            await gate.Task;
            Interlocked.Increment(ref delivered);
        }).Ready;
        await b.AddService<byte[], int>("size", (bytes, _, _) => new ValueTask<int>(bytes.Length)).Ready;
        await AwaitConditionAsync(
            () => a.HasSubscribers("stuck") && a.MessagingLayer.Routes.Current.Service("size") is not null,
            TestTimeouts.Default, message: "a to route 'stuck' and 'size' to b");
        try
        {
            // b stops reading its channel from a; a publishes until its queue to b is exactly at the cap (each message
            // counts 64 KiB: 64 + "null" + its attachment) and a publish is refused.
            var payload = new byte[64 * 1024 - 68];
            int accepted = 0, refused = 0;
            var sent = -1L;
            await AwaitConditionAsync(async () =>
            {
                try
                {
                    await a.PublishAsync("stuck", payload);
                    accepted++;
                }
                catch (PeerQueueFullException)
                {
                    refused++;
                }

                var peer = a.DescribePeers().Single(peer => peer.NodeId == b.Id);
                var stalled = peer.Stats.BytesSent == sent;
                sent = peer.Stats.BytesSent;
                return stalled && refused > 0 && peer.QueuedBytes == cap;
            }, TestTimeouts.Long, interval: TimeSpan.FromMilliseconds(100), message: "a's queue to b at its cap and stalled");
            var before = a.DescribePeers().Single(peer => peer.NodeId == b.Id);
            var droppedBefore = before.Stats.Dropped; // Stats is live: read it now
            Assert.Equal(refused, droppedBefore);

            // One request, refused with the documented exception: it was never queued, so nothing about it may be sent.
            await Assert.ThrowsAsync<PeerQueueFullException>(() => a.RequestAsync<byte[], int>("size", new byte[1000]));

            var after = a.DescribePeers().Single(peer => peer.NodeId == b.Id);
            Assert.True(
                (after.Stats.Dropped, after.QueuedBytes) == (droppedBefore + 1, before.QueuedBytes),
                $"one refused request: dropped {droppedBefore} -> {after.Stats.Dropped} (expected +1), queued {before.QueuedBytes} -> {after.QueuedBytes} B (expected unchanged)");

            // Nothing that was accepted is lost once b reads again.
            gate.SetResult();
            await AwaitConditionAsync(() => Volatile.Read(ref delivered) == accepted, TestTimeouts.Long, message: $"all {accepted} accepted messages delivered");
        }
        finally
        {
            gate.TrySetResult();
        }
    }
}
