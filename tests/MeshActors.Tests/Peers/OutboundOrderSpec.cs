using System.Collections.Concurrent;
using System.Text;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Tests.Mesh;
using Xunit.Abstractions;

namespace MeshActors.Tests.Peers;

/// <summary>
/// A peer's outbound path keeps one sender's order (docs/messaging.md, Guarantees: "Ordering: per sender"), also for
/// sends the caller has not awaited yet while the queue is backed up or at its cap.
/// </summary>
[Collection(nameof(PeersCollection))]
public sealed class OutboundOrderSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    [Fact]
    public async Task Un_awaited_PublishAsync_calls_from_one_caller_must_reach_the_subscriber_in_call_order_while_the_queue_backs_up()
    {
        const int count = 50_000;
        var (publisher, subscriber) = await StartConnected("publisher", "subscriber");
        var received = new ConcurrentQueue<int>();
        using var subscription = subscriber.Subscribe<int>("seq", (n, _) =>
        {
            received.Enqueue(n);
            return default;
        });
        await subscription.Ready;
        await publisher.WaitForSubscriberAsync("seq", TestTimeouts.Default);

        // One caller, one thread, calls in order; it awaits them all at the end (as one would fire a burst). Beyond
        // BackpressureEnvelopes queued, a call waits for room while later calls are still being made.
        var pending = new List<Task>();
        for (var n = 0; n < count; n++)
        {
            var publish = publisher.PublishAsync("seq", n);
            if (!publish.IsCompletedSuccessfully)
                pending.Add(publish.AsTask());
        }

        await Task.WhenAll(pending).WaitAsync(TestTimeouts.Long);
        await AwaitConditionAsync(() => received.Count >= count, TestTimeouts.Long, message: $"{count} messages at the subscriber");

        var order = received.ToArray();
        var overtaken = order.Where((n, i) => i > 0 && n < order[i - 1]).Count();
        Output!.WriteLine($"{pending.Count} of {count} publishes waited for room; {overtaken} arrived after a later one");
        Assert.True(pending.Count > 0, "no publish waited for room: the scenario did not happen");
        Assert.Equal(Enumerable.Range(0, count), order);
    }

    [Fact]
    public async Task A_send_waiting_for_room_at_the_cap_must_not_be_overtaken_by_a_later_send_that_fits()
    {
        const long cap = 1024 * 1024;
        const int size = 10_000; // what each filler counts against the cap: the queue fills to 104 of them, 8,576 bytes short of the cap
        var options = new PeerOptions { OutboundQueueCapBytes = cap, LivenessTimeout = TimeSpan.FromMinutes(5) };
        await using var node = await TestNode.StartAsync(Output!, "node", options);
        await using var stalled = await RawPeer.OpenAsync(node.Address);
        await stalled.HandshakeAsync();
        var toStalled = await node.ConnectedPeerAsync("raw-node");
        var link = (PeerLink)toStalled;
        var filled = await FillUntilStuckAsync(link, n => Sized(n, size));
        Assert.Equal(cap - cap % size, link.Queue.QueuedBytes);

        // One caller: first a message that does not fit (it waits for room), then a small one that does.
        var first = toStalled.SendAsync(Sized(filled, size)).AsTask();
        var second = toStalled.SendAsync(Sized(filled + 1, 200)).AsTask();
        Assert.False(first.IsCompleted);

        // The peer reads everything: the waiting message gets its room and goes out; it must go out before the later one.
        var order = new List<long>();
        while (order.Count < filled + 2 && await stalled.ReadAsync() is Envelope.Pub pub)
            order.Add(RecordingHandler.ReadN(pub.Data.Span));
        await Task.WhenAll(first, second).WithTimeout();

        Assert.Equal(Enumerable.Range(0, filled + 2).Select(n => (long)n), order);
    }

    // A pub on "seq" counting exactly `size` against the queue's cap (64 + its data).
    private static Envelope.Pub Sized(long n, int size)
    {
        var head = $"{{\"n\":{n},\"pad\":\"";
        var data = head + new string('x', size - 64 - head.Length - 2) + "\"}";
        var pub = new Envelope.Pub("seq", Encoding.UTF8.GetBytes(data));
        Assert.Equal(size, OutboundQueue.SizeOf(pub));
        return pub;
    }

    // Fills what the transport buffers and then the queue, until the writer is stuck behind the peer (nothing more goes
    // out over three looks after something did); returns how many messages the queue accepted.
    private async Task<int> FillUntilStuckAsync(PeerLink link, Func<int, Envelope> message)
    {
        var sent = 0;
        var bytesSent = -1L;
        var still = 0;
        await AwaitConditionAsync(() =>
        {
            while (link.TrySend(message(sent)))
                sent++;
            still = link.Stats.BytesSent == bytesSent && bytesSent > 0 ? still + 1 : 0;
            bytesSent = link.Stats.BytesSent;
            return still >= 3;
        }, TestTimeouts.Default, interval: TimeSpan.FromMilliseconds(200));
        return sent;
    }
}
