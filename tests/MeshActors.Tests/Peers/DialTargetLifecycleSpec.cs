using MeshActors.Discovery;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Tests.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Peers;

using MeshActors.TestKit;

/// <summary>What the peer manager dials, and when, as members move, leave and come back.</summary>
[Collection(nameof(PeersCollection))]
public sealed class DialTargetLifecycleSpec(ITestOutputHelper output) : TestKit(output)
{
    private const int StaleAddressLog = 4013;
    private const int PeerRestartedLog = 4019;
    private const int EndedRunLog = 4020;

    private ITestOutputHelper Log => Output!;

    // docs/architecture.md, Who dials: "the node with the ordinally smaller node id dials at once"; DialTarget.Stale: "A
    // member whose address led to another node: not dialed again until its registration changes". Here the registration
    // changes (the member moved to its real address) while the channel its stale address led to still stands.
    [Fact]
    public async Task A_member_whose_registration_moves_off_a_stale_address_must_be_dialed_at_its_new_address()
    {
        // Fixed ids: 'a' has the smallest, so it is the one that dials; 'm' never hears of 'a' (or waits its grace for good).
        await using var a = await TestNode.StartAsync(Log, "a", id: "a-" + Guid.NewGuid().ToString("N"));
        await using var x = await TestNode.StartAsync(Log, "x", id: "x-" + Guid.NewGuid().ToString("N"));
        await using var m = await TestNode.StartAsync(Log, "m", id: "m-" + Guid.NewGuid().ToString("N"));

        // Discovery still has m at an address where x answers now (m moved, x took its old port).
        a.System.EventStream.Publish(new MemberUp(new MeshMember(m.Id, m.Name, x.Address.Host, x.Address.Port) { ProtocolVersion = WireProtocol.Version }));
        await a.ConnectedPeerAsync(x);
        await AwaitConditionAsync(() => a.Log.Count(StaleAddressLog) == 1, TestTimeouts.Default);

        // m's registration is refreshed with its real address: the smaller id must now dial it there.
        a.System.EventStream.Publish(new MemberUpdated(m.Member));

        await AwaitConditionAsync(
            () => a.Directory.TryGet(m.Id, out var toM) && toM.IsConnected,
            TestTimeouts.Default,
            message: $"a never dialed m at its new address {m.Address.Host}:{m.Address.Port} (its dial target still holds the channel its stale address led to x)");
    }

    // docs/architecture.md, Who dials: "A node that restarted (same node id, another incarnation in its hello): its new
    // channel replaces the old run's". Incarnations have no order, so the node takes the hello it reads last for the
    // newest run. Here that is the dead run's: its one channel's hello was delayed (never attached before) and arrives
    // after the live run's. The node then records the live run as ended, and turns away every channel the live run
    // dials from then on, even once the dead run's channel is gone: the peer, a member, can never connect again.
    [Fact]
    public async Task A_restarted_member_must_be_able_to_reconnect_after_a_late_hello_from_its_dead_run_took_it_over()
    {
        // Long liveness and handshake: only the hand-driven peer ends its channels. The peer is a member with the
        // smaller id, so the node keeps its link between channels and waits for its dials (a long grace).
        var options = new PeerOptions
        {
            LivenessTimeout = TimeSpan.FromMinutes(1), HandshakeTimeout = TimeSpan.FromMinutes(1), DialGrace = TimeSpan.FromMinutes(10),
        };
        await using var node = await TestNode.StartAsync(Log, "node", options, id: "node-" + Guid.NewGuid().ToString("N"));
        const string peerId = "a-restarting";
        node.System.EventStream.Publish(new MemberUp(new MeshMember(peerId, "hand", "127.0.0.1", 1) { ProtocolVersion = WireProtocol.Version }));

        // The first run dialed; its hello is still on its way when it dies.
        await using var deadRun = await HandDrivenChannel.DialAsync(node.Address, sessionId: "1");
        Assert.IsType<Envelope.Hello>(await deadRun.ReadAsync());

        // The peer restarted with its id: the second run dials and carries the peer.
        await using var liveRun = await HandDrivenChannel.DialAsync(node.Address, sessionId: "2");
        await liveRun.HandshakeAsync(peerId, incarnation: "second-run");
        var link = await node.ConnectedPeerAsync(peerId);

        // The dead run's delayed hello arrives: the node takes it for yet another restart and resets the live run's channel.
        await deadRun.WriteAsync(new Envelope.Hello(peerId, "hand", [WireProtocol.BinaryCapability]) { Incarnation = "first-run" });
        await AwaitConditionAsync(() => node.Log.Count(PeerRestartedLog) == 1, TestTimeouts.Default);

        // The dead run's channel is gone (half-open, noticed late, or reset): the peer is disconnected.
        deadRun.Abort();
        await AwaitConditionAsync(() => !link.IsConnected, TestTimeouts.Default);

        // The live run dials again, as it does after its channel was reset: it must carry the peer.
        await using var liveAgain = await HandDrivenChannel.DialAsync(node.Address, sessionId: "0");
        await liveAgain.HandshakeAsync(peerId, incarnation: "second-run");
        await AwaitConditionAsync(
            () => link.IsConnected || node.Log.Count(EndedRunLog) > 0,
            TestTimeouts.Default,
            message: "the live run's new channel neither carried the peer nor was turned away");
        Assert.True(
            link.IsConnected,
            $"the live run's new channel was turned away as a late channel of a run the peer restarted from (event {EndedRunLog}: {node.Log.Count(EndedRunLog)}); the peer can never connect again");
    }
}
