using System.Text;
using MeshActors.Peers;
using MeshActors.Protocol;
using Xunit.Abstractions;

namespace MeshActors.Tests.Peers;

using MeshActors.TestKit;

/// <summary>A peer that opens a channel and never reads: its queue fills to the cap and the overflow policy applies; nobody else waits for it.</summary>
[Collection(nameof(PeersCollection))]
public sealed class SlowPeerSpec(ITestOutputHelper output) : TestKit(output)
{
    private ITestOutputHelper Log => Output!;

    [Fact]
    public async Task A_peer_that_never_reads_must_meet_the_queue_cap_and_stall_nobody_else()
    {
        const long cap = 1024 * 1024;
        // It sends nothing either; a long liveness timeout keeps it from being closed as hung while the test runs.
        var options = new PeerOptions { OutboundQueueCapBytes = cap, LivenessTimeout = TimeSpan.FromMinutes(5) };
        await using var node = await TestNode.StartAsync(Log, "node", options);
        await using var good = await TestNode.StartAsync(Log, "good");
        good.Dial(node);
        await using var stalled = await RawPeer.OpenAsync(node.Address);
        await stalled.HandshakeAsync();
        var toStalled = await node.ConnectedPeerAsync("raw-node");

        var sent = await FillUntilStuckAsync(toStalled);

        var link = (PeerLink)toStalled;
        Assert.InRange(link.Queue.QueuedBytes, cap - 16 * 1024, cap);
        Assert.True(link.Stats.Dropped >= 1);
        var refused = sent;
        var waiting = toStalled.SendAsync(Message(refused + 1)).AsTask();

        // Meanwhile the node and the good peer exchange as usual.
        var toGood = await node.ConnectedPeerAsync(good);
        var toNode = await good.ConnectedPeerAsync(node);
        await Task.WhenAll(DataPlaneSpec.SendAsync(toGood, 10_000), DataPlaneSpec.SendAsync(toNode, 10_000)).WithTimeout();
        var atGood = good.Handler.From(node.Id);
        var atNode = node.Handler.From(good.Id);
        await AwaitConditionAsync(() => atGood.Count == 10_000 && atNode.Count == 10_000, TestTimeouts.Default);
        Assert.True(atGood.IsExactly(10_000) && atNode.IsExactly(10_000));

        // Once the peer reads, everything accepted arrives in order, the waiting send included; the refused one never.
        var expected = Enumerable.Range(0, refused).Append(refused + 1).Select(n => (long)n).ToList();
        var received = new List<long>();
        while (received.Count < expected.Count && await stalled.ReadAsync() is Envelope.Pub pub)
        {
            received.Add(RecordingHandler.ReadN(pub.Data.Span));
        }

        await waiting.WithTimeout();
        Assert.Equal(expected, received);
    }

    [Fact]
    public async Task A_peer_that_pings_without_reading_must_get_one_pong_for_the_newest_ping()
    {
        const int pings = 100_000;
        var options = new PeerOptions { OutboundQueueCapBytes = 1024 * 1024, LivenessTimeout = TimeSpan.FromMinutes(5) };
        await using var node = await TestNode.StartAsync(Log, "node", options);
        await using var stalled = await RawPeer.OpenAsync(node.Address);
        await stalled.HandshakeAsync();
        var toStalled = await node.ConnectedPeerAsync("raw-node");
        await FillUntilStuckAsync(toStalled);
        var framesBefore = ((PeerLink)toStalled).Stats.FramesReceived;

        // Answered one pong per ping, these would pile up behind the stuck writer, as many as the peer cares to send.
        var flood = new MemoryStream();
        for (var n = 0; n < pings; n++)
        {
            flood.Write(RawPeer.Frame(Encoding.UTF8.GetBytes($"{{\"t\":\"ping\",\"n\":{n}}}")));
        }

        await stalled.WriteAsync(flood.ToArray());
        await AwaitConditionAsync(() => ((PeerLink)toStalled).Stats.FramesReceived == framesBefore + pings, TestTimeouts.Default);

        // Once the peer reads, the first pong behind what was already written answers the newest ping.
        Envelope? envelope;
        while ((envelope = await stalled.ReadAsync()) is not Envelope.Pong)
        {
            Assert.IsType<Envelope.Pub>(envelope);
        }

        Assert.Equal(pings - 1, ((Envelope.Pong)envelope).Value);
    }

    [Fact]
    public async Task A_peer_that_sends_bad_frames_without_reading_the_errs_must_be_closed_once_too_many_wait()
    {
        var options = new PeerOptions
        {
            OutboundQueueCapBytes = 1024 * 1024, LivenessTimeout = TimeSpan.FromMinutes(5), GoodbyeGrace = TimeSpan.FromMilliseconds(100),
        };
        await using var node = await TestNode.StartAsync(Log, "node", options);
        await using var stalled = await RawPeer.OpenAsync(node.Address);
        await stalled.HandshakeAsync();
        var toStalled = await node.ConnectedPeerAsync("raw-node");
        await FillUntilStuckAsync(toStalled);

        var flood = new MemoryStream();
        for (var n = 0; n < 4 * PeerChannel.MaxQueuedErrs; n++)
        {
            flood.Write(RawPeer.Frame("{\"t\":\"frob\"}"u8.ToArray()));
        }

        await stalled.WriteAsync(flood.ToArray());

        // Each bad frame gets its err until that many wait unread; the next one closes the channel (the writer being
        // stuck, the goodbye grace then resets it), logged and counted once.
        await AwaitConditionAsync(() => !toStalled.IsConnected, TestTimeouts.Default);
        Assert.Equal(PeerChannel.MaxQueuedErrs + 1, node.Directory.Totals.BadFrames);
        Assert.Equal(PeerChannel.MaxQueuedErrs + 1, node.Log.Count(4003));
        Assert.Equal(1, node.Log.Count(4003, $"{ErrorCodes.ProtocolError}: "));
    }

    private static Envelope.Pub Message(int n) => RecordingHandler.Pub(n, padding: 8 * 1024);

    // Fills what the transport buffers (HTTP/2 windows, socket buffers) and then the queue, until the writer is stuck
    // behind the peer: the queue stays full and nothing more goes out between two looks (after something did: the
    // HTTP/2 window alone takes megabytes). Returns how many messages the queue accepted.
    private async Task<int> FillUntilStuckAsync(IPeer toStalled)
    {
        var link = (PeerLink)toStalled;
        var sent = 0;
        var bytesSent = -1L;
        var still = 0;
        await AwaitConditionAsync(() =>
        {
            while (toStalled.TrySend(Message(sent)))
            {
                sent++;
            }

            // Still over three looks in a row: one 200 ms pause of a busy machine's reader is not a stuck writer.
            still = link.Stats.BytesSent == bytesSent && bytesSent > 0 ? still + 1 : 0;
            bytesSent = link.Stats.BytesSent;
            return still >= 3;
        }, TestTimeouts.Default, interval: TimeSpan.FromMilliseconds(200));

        Log.WriteLine($"{sent} messages of 8 KB accepted, {bytesSent / 1e6:0.0} MB of them handed to the transport, before the writer was stuck");
        return sent;
    }
}
