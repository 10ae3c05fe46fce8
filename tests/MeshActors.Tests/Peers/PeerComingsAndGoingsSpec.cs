using System.Net;
using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Tests.Transport;
using MeshActors.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Peers;

using MeshActors.TestKit;

/// <summary>Peers that come back on a new channel, leave discovery while explicitly dialed, or drop while the node flushes its queues.</summary>
[Collection(nameof(PeersCollection))]
public sealed class PeerComingsAndGoingsSpec(ITestOutputHelper output) : TestKit(output), IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "meshactors-peers-" + Guid.NewGuid().ToString("N"));

    private ITestOutputHelper Log => Output!;

    public Task InitializeAsync() => Task.CompletedTask;

    Task IAsyncLifetime.DisposeAsync()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_channel_reset_while_its_reads_wait_for_a_slow_subscriber_must_be_noticed_at_once()
    {
        // A long liveness timeout: only the reset itself can make the node notice within the test.
        await using var node = await MeshNode.StartAsync(new MeshOptions
        {
            NodeName = "slow",
            Discovery = new DiscoveryOptions { Registry = "local:" + _root },
            Peers = new PeerOptions { LivenessTimeout = TimeSpan.FromMinutes(1) },
            Messaging = new MessagingOptions { SubscriberBacklogLimit = 10 },
            LoggerFactory = new TestLog(Log),
        });
        var gate = new TaskCompletionSource();
        await node.Subscribe<int>("stuck", async (_, _) => await gate.Task).Ready;
        try
        {
            await using var peer = await HandDrivenChannel.DialAsync(new DnsEndPoint(node.Self.Host, node.Self.Port));
            await peer.HandshakeAsync("hand-node");
            // More than the subscriber's backlog takes: the node's reads of the channel pause until it catches up.
            for (var n = 0; n < 100; n++)
                await peer.WriteAsync(new Envelope.Pub("stuck", "1"u8.ToArray()));
            await AwaitConditionAsync(() => node.DescribePeers().Any(p => p.NodeId == "hand-node" && p.Stats.FramesReceived >= 12), TestTimeouts.Default);

            peer.Abort();

            // docs/architecture.md, Liveness: a reset is noticed at once, not only once the subscriber catches up.
            await AwaitConditionAsync(() => !node.DescribePeers().Any(p => p.NodeId == "hand-node" && p.IsConnected), TimeSpan.FromSeconds(3), message: "the node to notice the reset");
        }
        finally
        {
            gate.TrySetResult();
        }
    }

    [Fact]
    public async Task A_node_must_announce_its_interest_on_a_channel_that_takes_over_from_an_older_channel_of_the_same_peer()
    {
        await using var node = await MeshNode.StartAsync(new MeshOptions
        {
            NodeName = "provider",
            Discovery = new DiscoveryOptions { Registry = "local:" + _root },
            LoggerFactory = new TestLog(Log),
        });
        await node.AddService<int, int>("echo", (x, _, _) => new ValueTask<int>(x)).Ready;
        var address = new DnsEndPoint(node.Self.Host, node.Self.Port);

        // The peer's first channel (no x-session-id): the node announces its services right after the handshake.
        await using var first = await RawPeer.OpenAsync(address);
        await first.HandshakeAsync("raw-node");
        Assert.Contains("echo", (await NextAsync<Envelope.Interest>(first.ReadAsync)).Services);

        // The peer dials again, as a node does once its side of the first channel is gone (a liveness timeout, a half-open
        // connection) before this node noticed. Dialed by the same node, the channel with a session id is the one kept
        // (docs/protocol.md 7.4): the node says goodbye on the first one and carries the peer on the second.
        await using var second = await HandDrivenChannel.DialAsync(address, sessionId: "0");
        await second.HandshakeAsync("raw-node");
        Assert.Equal(Envelope.Bye.Duplicate, (await NextAsync<Envelope.Bye>(first.ReadAsync)).Reason);

        // docs/protocol.md 5.7: "A node sends its current announcement right after the handshake". The peer, which
        // forgot the node's announcement with its lost channel, otherwise never learns that it hosts 'echo'. Read until
        // the announcement, or until the node has pinged twice, idle, without sending it.
        var pings = 0;
        Envelope.Interest? announced = null;
        while (announced is null && pings < 2)
        {
            switch (await second.ReadAsync())
            {
                case Envelope.Interest interest:
                    announced = interest;
                    break;
                case Envelope.Ping:
                    pings++;
                    break;
                case null:
                    Assert.Fail("the node ended the second channel");
                    break;
            }
        }

        Assert.True(announced is not null, $"the node pinged {pings} times on the channel that carries the peer, and never announced its interest on it");
        Assert.Contains("echo", announced!.Services);
    }

    [Fact]
    public async Task Sending_what_is_queued_must_not_wait_for_a_peer_that_disconnects_meanwhile()
    {
        // The raw peer is a member with the smaller id: the node keeps its link (and queue) between channels, and waits
        // for its dial rather than dialing it.
        var options = new PeerOptions
        {
            OutboundQueueCapBytes = 1024 * 1024, LivenessTimeout = TimeSpan.FromMinutes(5), DialGrace = TimeSpan.FromMinutes(10),
        };
        await using var node = await TestNode.StartAsync(Log, "node", options);
        node.System.EventStream.Publish(new MemberUp(new MeshMember("a-raw", "raw", "127.0.0.1", 1) { ProtocolVersion = WireProtocol.Version }));
        await using var stalled = await RawPeer.OpenAsync(node.Address);
        await stalled.HandshakeAsync("a-raw");
        var toStalled = await node.ConnectedPeerAsync("a-raw");
        await FillUntilStuckAsync(toStalled);

        // What MeshNode.StopAsync does before its goodbye, for at most the goodbye grace (here: minutes).
        var flushing = node.Directory.SendQueuedAsync(TimeSpan.FromMinutes(5), CancellationToken.None);
        Assert.False(flushing.IsCompleted);

        // The peer crashes: its link is disconnected, its queue kept for the next channel.
        stalled.Channel.Abort("the peer crashes");
        await AwaitConditionAsync(() => !toStalled.IsConnected, TestTimeouts.Default);
        Assert.True(((PeerLink)toStalled).Queue.QueuedBytes > 0);

        // PeerDirectory.SendQueuedAsync: "What is queued for a disconnected peer is not waited for."
        await AwaitConditionAsync(() => flushing.IsCompleted, TestTimeouts.Default,
            message: "SendQueuedAsync still waits for the queue of a peer that is no longer connected (until its whole timeout)");
    }

    [Fact]
    public async Task A_node_dialed_explicitly_must_keep_its_link_and_queue_when_it_leaves_discovery()
    {
        var probe = CreateTestProbe();
        var options = new PeerOptions { ReconnectMaxBackoff = TimeSpan.FromMilliseconds(200) };
        await using var a = await TestNode.StartAsync(Log, "a", options);
        var b = await TestNode.StartAsync(Log, "b");
        var (bId, bPort, bMember) = (b.Id, b.Address.Port, b.Member);
        a.Report(probe.Ref);
        a.Dial(b); // an explicit target: "dialed at once and kept dialed"
        a.See(b);  // and a member
        var toB = await a.ConnectedPeerAsync(b);

        await b.StopAsync();
        await probe.FishForMessageAsync<PeerDisconnected>(disconnected => disconnected.NodeId == bId, TestTimeouts.Default);
        await DataPlaneSpec.SendAsync(toB, 1000);

        // Discovery drops the node (its registration expired while it restarts); the manager has handled it once it answers.
        a.System.EventStream.Publish(new MemberDown(bMember, MemberDownReason.Expired));
        await a.Manager.Ask<IReadOnlyCollection<IPeer>>(PeerManagerActor.GetPeers.Instance).WithTimeout();

        // docs/architecture.md: "A link is kept while its node is a member or an explicit target".
        Assert.True(a.Directory.TryGet(bId, out var kept) && ReferenceEquals(kept, toB),
            $"the link of an explicit target was removed when its node left discovery ({((PeerLink)toB).Stats.Dropped} queued messages dropped)");

        // The explicit target redials the node when it is back, and what was queued goes out on the new channel.
        await using var restarted = await TestNode.StartAsync(Log, "b", id: bId, port: bPort);
        await probe.FishForMessageAsync<PeerConnected>(connected => connected.NodeId == bId, TestTimeouts.Default);
        var received = restarted.Handler.From(a.Id);
        await AwaitConditionAsync(() => received.Count >= 1000, TestTimeouts.Default);
        Assert.True(received.IsExactly(1000), received.ToString());
        await b.DisposeAsync();
    }

    private static async Task<T> NextAsync<T>(Func<bool, Task<Envelope?>> read)
        where T : Envelope
    {
        while (true)
        {
            switch (await read(true))
            {
                case T wanted:
                    return wanted;
                case null:
                    throw new InvalidOperationException($"the channel ended before a {typeof(T).Name}");
            }
        }
    }

    // As in SlowPeerSpec: fills the transport's buffers and then the queue, until the writer is stuck behind the peer.
    private async Task FillUntilStuckAsync(IPeer toStalled)
    {
        var link = (PeerLink)toStalled;
        var sent = 0;
        var bytesSent = -1L;
        var still = 0;
        await AwaitConditionAsync(() =>
        {
            while (toStalled.TrySend(RecordingHandler.Pub(sent, padding: 8 * 1024)))
            {
                sent++;
            }

            still = link.Stats.BytesSent == bytesSent && bytesSent > 0 ? still + 1 : 0;
            bytesSent = link.Stats.BytesSent;
            return still >= 3;
        }, TestTimeouts.Default, interval: TimeSpan.FromMilliseconds(200));
    }
}
