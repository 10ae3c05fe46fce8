using System.Net;
using MeshActors.Discovery;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Tests.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Peers;

using MeshActors.TestKit;

[Collection(nameof(PeersCollection))]
public sealed class DataPlaneSpec(ITestOutputHelper output) : TestKit(output)
{
    private const int DialRetryLog = 4006;
    private const int UnreachableLog = 4007;

    private ITestOutputHelper Log => Output!;

    [Fact]
    public async Task Two_nodes_must_exchange_a_million_messages_each_way_at_once_in_order_without_loss_or_duplicates()
    {
        const int count = 1_000_000;
        await using var a = await TestNode.StartAsync(Log, "a");
        await using var b = await TestNode.StartAsync(Log, "b");
        a.See(b);
        b.See(a);
        var toB = await a.ConnectedPeerAsync(b);
        var toA = await b.ConnectedPeerAsync(a);

        await Task.WhenAll(Task.Run(() => SendAsync(toB, count)), Task.Run(() => SendAsync(toA, count))).WaitAsync(TestTimeouts.Long);

        var fromA = b.Handler.From(a.Id);
        var fromB = a.Handler.From(b.Id);
        await AwaitConditionAsync(() => fromA.Count >= count && fromB.Count >= count, TestTimeouts.Long);
        Assert.True(fromA.IsExactly(count), $"a -> b: {fromA}");
        Assert.True(fromB.IsExactly(count), $"b -> a: {fromB}");
        Assert.Equal(1, a.Directory.ChannelCount);
        Assert.Equal(0, a.Directory.Totals.Dropped + b.Directory.Totals.Dropped);
        Assert.InRange(a.Directory.Totals.FramesSent, count, count + 100);
        Log.WriteLine($"a: {a.Directory.Totals}");
        Log.WriteLine($"b: {b.Directory.Totals}");
    }

    [Fact]
    public async Task Messages_queued_while_a_peer_restarts_must_be_delivered_after_the_reconnect()
    {
        var probe = CreateTestProbe();
        await using var a = await TestNode.StartAsync(Log, "a");
        var b = await TestNode.StartAsync(Log, "b");
        var (bId, bPort) = (b.Id, b.Address.Port);
        a.Report(probe.Ref);
        a.Dial(b);
        var toB = await a.ConnectedPeerAsync(b);
        await SendAsync(toB, 1000);
        await AwaitConditionAsync(() => b.Handler.From(a.Id).Count == 1000, TestTimeouts.Default);

        await b.StopAsync();
        await probe.FishForMessageAsync<PeerDisconnected>(disconnected => disconnected.NodeId == bId, TestTimeouts.Default);
        Assert.False(toB.IsConnected);
        await SendAsync(toB, 1000, first: 1000);
        Assert.True(((PeerLink)toB).Queue.QueuedBytes > 0);

        // The same node comes back on the same port; the peer's queue was kept and goes out on the new channel.
        await using var restarted = await TestNode.StartAsync(Log, "b", id: bId, port: bPort);
        await probe.FishForMessageAsync<PeerConnected>(connected => connected.NodeId == bId, TestTimeouts.Default);
        var received = restarted.Handler.From(a.Id);
        await AwaitConditionAsync(() => received.Count >= 1000, TestTimeouts.Default);
        Assert.True(received.IsExactly(1000, first: 1000), received.ToString());
        Assert.True(a.Directory.TryGet(bId, out var sameLink) && ReferenceEquals(toB, sameLink));
        Assert.Equal(1, ((PeerLink)toB).Stats.Reconnects);
        Assert.Equal(0, ((PeerLink)toB).Queue.QueuedBytes);
        await b.DisposeAsync();
    }

    [Fact]
    public async Task A_queued_request_its_node_no_longer_awaits_must_not_be_sent_after_the_reconnect()
    {
        var probe = CreateTestProbe();
        await using var a = await TestNode.StartAsync(Log, "a");
        var b = await TestNode.StartAsync(Log, "b");
        var (bId, bPort) = (b.Id, b.Address.Port);
        a.Report(probe.Ref);
        a.Dial(b);
        var toB = await a.ConnectedPeerAsync(b);
        await b.StopAsync();
        await probe.FishForMessageAsync<PeerDisconnected>(disconnected => disconnected.NodeId == bId, TestTimeouts.Default);

        // Both wait in the peer's queue; by the time the peer is back, the node has failed the first one's caller (as it
        // does for a request in flight when a channel drops), who may have taken it to another provider meanwhile.
        Assert.True(toB.TrySend(new Envelope.Req(1, "svc", "{}"u8.ToArray())));
        Assert.True(toB.TrySend(new Envelope.Req(2, "svc", "{}"u8.ToArray())));
        a.Handler.Awaits = req => req.Id != 1;

        await using var restarted = await TestNode.StartAsync(Log, "b", id: bId, port: bPort);
        await AwaitConditionAsync(() => restarted.Handler.Requests.Contains(2), TestTimeouts.Default);
        Assert.Equal([2L], restarted.Handler.Requests);
        Assert.Equal(0, ((PeerLink)toB).Queue.QueuedBytes);
        await b.DisposeAsync();
    }

    [Fact]
    public async Task A_reset_inbound_channel_must_keep_the_peers_queue_for_the_next_channel()
    {
        const int count = 32_000; // 32 MB, below the cap
        // The raw peer is a member with the smaller id: the node waits for its dial (and never dials it in this test),
        // and keeps its link between channels. The writer takes half the queue in its first batch, which keeps it busy
        // long enough for the reset to arrive while it writes; its flush then waits for a peer that never reads more
        // than its window, so the other half is still queued when the reset is noticed.
        var options = new PeerOptions { DialGrace = TimeSpan.FromMinutes(10), FlushThresholdBytes = 16 * 1024 * 1024 };
        await using var node = await TestNode.StartAsync(Log, "node", options);
        node.System.EventStream.Publish(new MemberUp(new MeshMember("a-raw", "raw", "127.0.0.1", 1) { ProtocolVersion = WireProtocol.Version }));
        await using (var first = await RawPeer.OpenAsync(node.Address))
        {
            await first.HandshakeAsync("a-raw");
            await node.ConnectedPeerAsync("a-raw");
        }

        Assert.True(node.Directory.TryGet("a-raw", out var peer));
        var link = (PeerLink)peer;
        await AwaitConditionAsync(() => !link.IsConnected, TestTimeouts.Default);
        for (var n = 0; n < count; n++)
        {
            Assert.True(link.TrySend(RecordingHandler.Pub(n, padding: 1000)));
        }

        // The peer resets the stream as soon as the node's writer has the queue.
        await using (var reset = await RawPeer.OpenAsync(node.Address))
        {
            await reset.HandshakeAsync("a-raw");
            await AwaitConditionAsync(() => link.IsConnected, TestTimeouts.Default, interval: TimeSpan.FromMilliseconds(1));
            reset.Channel.Abort("the test resets the stream");
        }

        await AwaitConditionAsync(() => link is { IsConnected: false, Stats.Reconnects: 1 }, TestTimeouts.Default);
        Assert.Equal(0, link.Stats.Dropped);
        Assert.Equal(0, node.Log.Count(4009) + node.Log.Count(4016));
        Assert.True(link.Queue.QueuedBytes > 0);

        // What the reset channel had not taken goes out on the next one: the tail of the sequence, in order.
        await using var next = await RawPeer.OpenAsync(node.Address);
        await next.HandshakeAsync("a-raw");
        var received = new List<long>();
        while (received.LastOrDefault() != count - 1 && await next.ReadAsync() is Envelope.Pub pub)
        {
            received.Add(RecordingHandler.ReadN(pub.Data.Span));
        }

        Assert.Equal(Enumerable.Range(count - received.Count, received.Count).Select(n => (long)n), received);
        await AwaitConditionAsync(() => link.Queue.QueuedBytes == 0, TestTimeouts.Default);
        Assert.Equal(0, link.Stats.Dropped);
    }

    [Fact]
    public async Task A_channel_the_peer_dialed_must_restart_the_backoff_of_the_nodes_own_dials_to_it()
    {
        // The member's registered address answers nothing: every dial of the node's own fails, with a growing backoff.
        var options = new PeerOptions { ReconnectMinBackoff = TimeSpan.FromMilliseconds(10), ReconnectRandomFactor = 0 };
        await using var node = await TestNode.StartAsync(Log, "node", options, id: "a-" + Guid.NewGuid().ToString("N"));
        node.System.EventStream.Publish(new MemberUp(new MeshMember("z-raw", "raw", "127.0.0.1", ChannelFailureSpec.FreePort()) { ProtocolVersion = WireProtocol.Version }));
        await AwaitConditionAsync(() => node.Log.Count(DialRetryLog) >= 3, TestTimeouts.Default);
        Assert.Equal(1, node.Log.Count(UnreachableLog));

        // The peer dials the node instead. Once that channel is lost the node's dials count their failures from zero
        // again (starting from the first backoff), so the next failure is reported as a new outage.
        await using (var raw = await RawPeer.OpenAsync(node.Address))
        {
            await raw.HandshakeAsync("z-raw");
            await node.ConnectedPeerAsync("z-raw");
        }

        await AwaitConditionAsync(() => node.Log.Count(UnreachableLog) == 2, TestTimeouts.Default);
    }

    [Fact]
    public async Task A_node_that_restarts_with_its_id_must_have_its_new_channel_kept_over_its_half_open_old_one()
    {
        // The node the restarting one dials notices a silent channel only after the liveness timeout (5 s).
        var probe = CreateTestProbe();
        await using var node = await TestNode.StartAsync(Log, "node");
        node.Report(probe.Ref);
        var restarterId = "restarter-" + Guid.NewGuid().ToString("N");
        var proxies = new List<TcpProxy>();
        try
        {
            // Each incarnation dials through a relay that then hangs: its channel stays open at the node, which does not
            // hear it die. Of two channels one node dialed, the newer must win at once, every time (docs/protocol.md 7.4).
            for (var incarnation = 0; incarnation < 6; incarnation++)
            {
                var proxy = new TcpProxy(new IPEndPoint(IPAddress.Loopback, node.Address.Port));
                proxies.Add(proxy);
                var restarter = await TestNode.StartAsync(Log, "restarter", id: restarterId);
                restarter.Dial(proxy.Address);
                // The node's handler hears of the peer on each new channel that carries it (the first, or a takeover).
                await probe.FishForMessageAsync<RecordingHandler.Connected>(connected => connected.Peer.NodeId == restarterId, TimeSpan.FromSeconds(3));
                Assert.True(node.Directory.TryGet(restarterId, out var link));

                Assert.True(link.TrySend(RecordingHandler.Pub(incarnation)));
                var received = restarter.Handler.From(node.Id);
                await AwaitConditionAsync(() => received.Count == 1, TimeSpan.FromSeconds(3), message: $"incarnation {incarnation} to hear from the node");
                Assert.True(received.IsExactly(1, first: incarnation), received.ToString());

                proxy.Hang();
                await restarter.DisposeAsync();
            }
        }
        finally
        {
            foreach (var proxy in proxies)
                await proxy.DisposeAsync();
        }
    }

    [Fact]
    public async Task Nodes_that_dial_each_other_at_once_must_keep_the_channel_dialed_by_the_smaller_id_and_lose_nothing()
    {
        const int count = 100_000;
        await using var a = await TestNode.StartAsync(Log, "a", id: "a-" + Guid.NewGuid().ToString("N"));
        await using var b = await TestNode.StartAsync(Log, "b", id: "b-" + Guid.NewGuid().ToString("N"));

        a.Dial(b);
        b.Dial(a);
        var toB = await a.ConnectedPeerAsync(b);
        var toA = await b.ConnectedPeerAsync(a);
        // Sent while the two channels are still being sorted out.
        await Task.WhenAll(Task.Run(() => SendAsync(toB, count)), Task.Run(() => SendAsync(toA, count))).WaitAsync(TestTimeouts.Long);

        var fromA = b.Handler.From(a.Id);
        var fromB = a.Handler.From(b.Id);
        await AwaitConditionAsync(() => fromA.Count >= count && fromB.Count >= count, TestTimeouts.Long);
        // Under load the second channel may finish its handshake only after everything went over the first: wait for
        // the duplicate to be met and retired. A node whose own channel the other retired before its second handshake
        // was done never held two at once, and has nothing to retire: at least one of them meets it, neither twice.
        await AwaitConditionAsync(
            () => a.Log.Count(4004) + b.Log.Count(4004) is 1 or 2 && a.Log.Count(4004) <= 1 && b.Log.Count(4004) <= 1
                && a.Directory.ChannelCount == 1 && b.Directory.ChannelCount == 1,
            TestTimeouts.Default,
            message: "both nodes to retire the duplicate channel");
        // Messages that went out on the retired channel may interleave with the first ones on the kept channel.
        Assert.True(fromA is { Count: count, Distinct: count, Duplicates: 0 }, $"a -> b: {fromA}");
        Assert.True(fromB is { Count: count, Distinct: count, Duplicates: 0 }, $"b -> a: {fromB}");
        Assert.True(a.Directory.Describe().Single() is { IsConnected: true, Outbound: true });
        Assert.True(b.Directory.Describe().Single() is { IsConnected: true, Outbound: false });
        Assert.Equal(0, a.Directory.Totals.Dropped + b.Directory.Totals.Dropped);
        Assert.Equal(0, a.Handler.Leavings + b.Handler.Leavings); // a duplicate's goodbye is not a peer leaving
    }

    [Fact]
    public async Task Members_must_be_dialed_only_by_the_node_with_the_smaller_id()
    {
        await using var a = await TestNode.StartAsync(Log, "a", id: "a-" + Guid.NewGuid().ToString("N"));
        await using var b = await TestNode.StartAsync(Log, "b", id: "b-" + Guid.NewGuid().ToString("N"));

        b.See(a);
        a.See(b);
        await a.ConnectedPeerAsync(b);
        await b.ConnectedPeerAsync(a);

        Assert.True(a.Directory.Describe().Single() is { Outbound: true });
        Assert.True(b.Directory.Describe().Single() is { Outbound: false });
        Assert.Equal(0, a.Log.Count(4004) + b.Log.Count(4004));
        Assert.Equal(1, a.Directory.ChannelCount);
    }

    [Fact]
    public async Task The_node_with_the_larger_id_must_dial_when_no_channel_arrives_within_the_grace()
    {
        var options = new PeerOptions { DialGrace = TimeSpan.FromMilliseconds(200) };
        await using var a = await TestNode.StartAsync(Log, "a", options, id: "a-" + Guid.NewGuid().ToString("N"));
        await using var b = await TestNode.StartAsync(Log, "b", options, id: "b-" + Guid.NewGuid().ToString("N"));

        b.See(a); // a never hears of b, so it never dials

        await b.ConnectedPeerAsync(a);
        Assert.True(b.Directory.Describe().Single() is { Outbound: true });
    }

    [Fact]
    public async Task A_member_that_left_must_be_forgotten_with_its_queue()
    {
        var probe = CreateTestProbe();
        await using var a = await TestNode.StartAsync(Log, "a");
        var b = await TestNode.StartAsync(Log, "b");
        a.Report(probe.Ref);
        a.See(b);
        var toB = await a.ConnectedPeerAsync(b);
        await probe.FishForMessageAsync<RecordingHandler.Connected>(connected => connected.Peer == toB, TestTimeouts.Default);

        await b.StopAsync();
        var disconnected = await probe.FishForMessageAsync<RecordingHandler.Disconnected>(d => d.Peer == toB, TestTimeouts.Default);
        Assert.Null(disconnected.Reason); // an orderly goodbye
        Assert.True(toB.TrySend(RecordingHandler.Pub(0)));
        a.System.EventStream.Publish(new MeshActors.Discovery.MemberDown(b.Member, MeshActors.Discovery.MemberDownReason.Left));

        await AwaitConditionAsync(() => !a.Directory.TryGet(b.Id, out _), TestTimeouts.Default);
        Assert.False(toB.TrySend(RecordingHandler.Pub(1)));
        await Assert.ThrowsAsync<PeerUnavailableException>(() => toB.SendAsync(RecordingHandler.Pub(2)).AsTask());
        Assert.Equal(2, a.Directory.Totals.Dropped); // the one left queued and the one refused
        await b.DisposeAsync();
    }

    internal static async Task SendAsync(IPeer peer, int count, int first = 0)
    {
        for (var n = first; n < first + count; n++)
        {
            await peer.SendAsync(RecordingHandler.Pub(n));
        }
    }
}
