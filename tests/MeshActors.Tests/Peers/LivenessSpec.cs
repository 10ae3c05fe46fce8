using System.Diagnostics;
using System.Net;
using MeshActors.Peers;
using MeshActors.Tests.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Peers;

using MeshActors.TestKit;

/// <summary>Crashed and hung peers, on the shipped defaults, through a TCP relay that can crash (reset) or hang (stop forwarding).</summary>
[Collection(nameof(PeersCollection))]
public sealed class LivenessSpec(ITestOutputHelper output) : TestKit(output)
{
    private ITestOutputHelper Log => Output!;

    [Fact]
    public async Task A_crashed_peer_must_be_noticed_within_a_second_and_reconnected()
    {
        var probe = CreateTestProbe();
        await using var a = await TestNode.StartAsync(Log, "a");
        await using var b = await TestNode.StartAsync(Log, "b");
        await using var proxy = new TcpProxy(new IPEndPoint(IPAddress.Loopback, b.Address.Port));
        a.Dial(proxy.Address);
        await a.ConnectedPeerAsync(b);
        a.Report(probe.Ref);

        var clock = Stopwatch.StartNew();
        proxy.Crash();

        await probe.FishForMessageAsync<PeerDisconnected>(disconnected => disconnected.NodeId == b.Id, TimeSpan.FromSeconds(1));
        Log.WriteLine($"noticed after {clock.Elapsed.TotalMilliseconds:0} ms");
        // The relay accepts new connections: the redial with backoff finds the peer again.
        await probe.FishForMessageAsync<PeerConnected>(connected => connected.NodeId == b.Id, TestTimeouts.Default);
    }

    [Fact]
    public async Task A_dialer_whose_system_terminates_must_be_noticed_by_the_acceptor_at_once()
    {
        var probe = CreateTestProbe();
        await using var a = await TestNode.StartAsync(Log, "a");
        await using var b = await TestNode.StartAsync(Log, "b");
        a.Dial(b);
        await b.ConnectedPeerAsync(a);
        b.Report(probe.Ref);

        var clock = Stopwatch.StartNew();
        await a.DisposeAsync(); // abrupt: the dialed channel is reset, no goodbye

        // Well before the liveness timeout (5 s): the reset itself is noticed (the clock includes the system's termination).
        await probe.FishForMessageAsync<PeerDisconnected>(disconnected => disconnected.NodeId == a.Id, TestTimeouts.Scaled(TimeSpan.FromSeconds(3)));
        Log.WriteLine($"noticed after {clock.Elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task A_hung_peer_must_be_noticed_within_five_seconds()
    {
        var probe = CreateTestProbe();
        await using var a = await TestNode.StartAsync(Log, "a");
        await using var b = await TestNode.StartAsync(Log, "b");
        await using var proxy = new TcpProxy(new IPEndPoint(IPAddress.Loopback, b.Address.Port));
        a.Dial(proxy.Address);
        await a.ConnectedPeerAsync(b);
        a.Report(probe.Ref);

        var clock = Stopwatch.StartNew();
        proxy.Hang();

        // 5 s of silence, checked every half heartbeat; HTTP/2 keep-alive pings may notice first.
        await probe.FishForMessageAsync<PeerDisconnected>(disconnected => disconnected.NodeId == b.Id, TimeSpan.FromSeconds(6));
        Log.WriteLine($"noticed after {clock.Elapsed.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task An_idle_channel_must_be_kept_alive_by_heartbeats()
    {
        var options = new PeerOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(100), LivenessTimeout = Dilated(TimeSpan.FromSeconds(1)) };
        var probe = CreateTestProbe();
        await using var a = await TestNode.StartAsync(Log, "a", options);
        await using var b = await TestNode.StartAsync(Log, "b", options);
        a.Report(probe.Ref);
        a.Dial(b);
        await a.ConnectedPeerAsync(b);

        // Many liveness timeouts pass without a message from either application.
        await probe.FishForMessageAsync<PeerConnected>(_ => true, TestTimeouts.Default);
        await probe.ExpectNoMsgAsync(TimeSpan.FromSeconds(3));
        Assert.InRange(a.Directory.Totals.FramesSent, 10, long.MaxValue);
        Assert.InRange(b.Directory.Totals.FramesSent, 10, long.MaxValue);
        Assert.Equal(0, a.Directory.Totals.LivenessTimeouts + b.Directory.Totals.LivenessTimeouts);
    }

    [Fact]
    public async Task A_peer_that_answers_nothing_must_be_closed_as_hung_by_the_heartbeat()
    {
        var options = new PeerOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(100), LivenessTimeout = TimeSpan.FromMilliseconds(500) };
        await using var a = await TestNode.StartAsync(Log, "a", options);
        await using var raw = await RawPeer.OpenAsync(a.Address);
        await raw.HandshakeAsync();

        // The raw peer reads (so the transport's own keep-alive is satisfied) but never answers a ping.
        var ended = raw.ReadToEndAsync();
        await AwaitConditionAsync(() => a.Directory.Totals.LivenessTimeouts == 1, TestTimeouts.Default);
        Assert.False(await ended.WithTimeout());
        Assert.Equal(1, a.Log.Count(4005));
    }
}
