using MeshActors.Transport;
using MeshActors.Peers;
using MeshActors.Protocol;

namespace MeshActors.Tests.Peers;

/// <summary>A peer's queue on its own, without a channel draining it: the byte cap and the overflow policies.</summary>
public sealed class OutboundQueueSpec
{
    private static readonly Envelope.Pub Kilobyte = new("t", new byte[1024 - 64]);

    [Fact]
    public void An_attachment_carried_out_late_must_not_displace_a_later_one()
    {
        var queue = Link(capBytes: 64 * 1024).Queue;
        var (kept, retiring) = (new Consumer(), new Consumer());

        Assert.True(queue.Attach(kept, attachment: 2));
        Assert.False(queue.Attach(retiring, attachment: 1));
        queue.Detach(retiring);

        Assert.True(queue.IsDrainedBy(kept));
    }

    [Fact]
    public void TrySend_must_refuse_at_the_cap_and_count_a_drop()
    {
        var link = Link(capBytes: 64 * 1024);

        var accepted = 0;
        while (link.TrySend(Kilobyte))
        {
            accepted++;
        }

        Assert.Equal(64, accepted);
        Assert.Equal(64 * 1024, link.Queue.QueuedBytes);
        Assert.Equal(1, link.Stats.Dropped);
    }

    [Fact]
    public void An_envelope_larger_than_the_cap_must_still_go_into_an_empty_queue()
    {
        var link = Link(capBytes: 64 * 1024);
        var large = new Envelope.Pub("t", new byte[100 * 1024]);

        Assert.True(link.TrySend(large));
        Assert.False(link.TrySend(Kilobyte));
    }

    [Fact]
    public async Task SendAsync_must_wait_for_room_under_the_wait_policy()
    {
        var link = Link(capBytes: 64 * 1024);
        while (link.TrySend(Kilobyte))
        {
        }

        var waiting = link.SendAsync(Kilobyte).AsTask();
        Assert.False(waiting.IsCompleted);

        Assert.True(link.Queue.TryDequeue(out var taken));
        link.Queue.Release(1, OutboundQueue.SizeOf(taken));

        await waiting.WithTimeout();
        Assert.Equal(64 * 1024, link.Queue.QueuedBytes);
    }

    [Theory]
    [InlineData(16, 1024 * 1024)] // 16 envelopes reach the envelope threshold first
    [InlineData(4096, 64 * 1024)] // 64 KB reach the byte threshold first
    public async Task SendAsync_must_wait_above_a_backpressure_threshold_while_TrySend_goes_on_to_the_cap(int envelopes, long bytes)
    {
        var options = new PeerOptions { OutboundQueueCapBytes = 256 * 1024, BackpressureEnvelopes = envelopes, BackpressureBytes = bytes };
        var link = new PeerLink("node", "name", options, new PeerStats());
        var belowThreshold = (int)Math.Min(envelopes, bytes / 1024);
        for (var i = 0; i < belowThreshold; i++)
        {
            await link.SendAsync(Kilobyte).WithTimeout();
        }

        var waiting = link.SendAsync(Kilobyte).AsTask();
        Assert.False(waiting.IsCompleted);
        Assert.True(link.TrySend(Kilobyte));

        Assert.True(link.Queue.TryDequeue(out var first));
        Assert.True(link.Queue.TryDequeue(out var second));
        link.Queue.Release(2, OutboundQueue.SizeOf(first) + OutboundQueue.SizeOf(second));

        await waiting.WithTimeout();
        Assert.Equal(belowThreshold * 1024, link.Queue.QueuedBytes); // sent up to the threshold, one tried, two taken, and the one that waited
    }

    [Fact]
    public async Task SendAsync_must_fail_with_PeerQueueFullException_under_the_fail_policy()
    {
        var link = Link(capBytes: 64 * 1024, PeerOverflowPolicy.Fail);
        while (link.TrySend(Kilobyte))
        {
        }

        var full = await Assert.ThrowsAsync<PeerQueueFullException>(() => link.SendAsync(Kilobyte).AsTask());
        Assert.Equal("node", full.NodeId);
        Assert.Equal(2, link.Stats.Dropped);
    }

    [Fact]
    public async Task A_cancelled_wait_must_leave_nothing_queued()
    {
        var link = Link(capBytes: 64 * 1024);
        while (link.TrySend(Kilobyte))
        {
        }

        using var cancel = new CancellationTokenSource();
        var waiting = link.SendAsync(Kilobyte, cancel.Token).AsTask();
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WithTimeout());
        Assert.Equal(64 * 1024, link.Queue.QueuedBytes);
    }

    [Fact]
    public async Task Closing_must_fail_waiting_senders_and_drop_what_is_queued()
    {
        var link = Link(capBytes: 64 * 1024);
        while (link.TrySend(Kilobyte))
        {
        }

        var waiting = link.SendAsync(Kilobyte).AsTask();
        Assert.Equal(64, link.Queue.Close("it left the mesh"));

        var unavailable = await Assert.ThrowsAsync<PeerUnavailableException>(() => waiting.WithTimeout());
        Assert.Contains("it left the mesh", unavailable.Message);
        Assert.Equal(0, link.Queue.QueuedBytes);
        Assert.False(link.TrySend(Kilobyte));
        Assert.Equal(1 + 64 + 1, link.Stats.Dropped);
    }

    [Fact]
    public async Task Many_senders_waiting_for_room_must_all_get_in_once_the_queue_drains()
    {
        var link = Link(capBytes: 64 * 1024);
        while (link.TrySend(Kilobyte))
        {
        }

        var senders = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 100; i++)
            {
                await link.SendAsync(Kilobyte);
            }
        })).ToArray();
        var drained = 0;
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (drained < 64 + 800 && DateTime.UtcNow < deadline)
        {
            if (link.Queue.TryDequeue(out var taken))
            {
                link.Queue.Release(1, OutboundQueue.SizeOf(taken));
                drained++;
            }
            else
            {
                await Task.Yield();
            }
        }

        await Task.WhenAll(senders).WithTimeout();
        Assert.Equal(0, link.Queue.QueuedBytes);
    }

    private static PeerLink Link(long capBytes, PeerOverflowPolicy policy = PeerOverflowPolicy.Wait) =>
        new("node", "name", new PeerOptions { OutboundQueueCapBytes = capBytes, OverflowPolicy = policy }, new PeerStats());

    private sealed class Consumer : IOutboundConsumer
    {
        public WakeSignal Signal { get; } = new();
    }
}
