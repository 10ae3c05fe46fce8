using System.Net;
using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Tests.Discovery;
using MeshActors.Tests.Messaging;
using MeshActors.Tests.Transport;
using MeshActors.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Peers;

using MeshActors.TestKit;

/// <summary>What is left behind when peers, services and their actors come and go.</summary>
[Collection(nameof(PeersCollection))]
public sealed class ChurnLeftoversSpec(ITestOutputHelper output) : TestKit(output), IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "meshactors-churn-" + Guid.NewGuid().ToString("N"));

    private ITestOutputHelper Log => Output!;

    public Task InitializeAsync() => Task.CompletedTask;

    Task IAsyncLifetime.DisposeAsync()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    // docs/messaging.md, From actors: "A subscriber or handler actor that stops is dropped, and its topic or service
    // withdrawn." One actor may host several services (HostService names the service, not the actor).
    [Fact]
    public async Task A_handler_actor_hosting_two_services_must_withdraw_both_when_it_stops()
    {
        await using var node = await MessagingNode.StartAsync("host", Log, Sys);
        var handler = CreateTestProbe();
        node.Messaging.Services.Tell(new HostService("first", handler.Ref));
        await ExpectMsgAsync<ServiceHosted>(hosted => hosted.Service == "first");
        node.Messaging.Services.Tell(new HostService("second", handler.Ref));
        await ExpectMsgAsync<ServiceHosted>(hosted => hosted.Service == "second");

        Sys.Stop(handler.Ref);

        await Eventually.UntilAsync(
            () => Task.FromResult(new[] { "first", "second" }.Where(service => node.Messaging.Routes.Current.Service(service) is not null).ToArray()),
            stillHosted => stillHosted.Length == 0,
            TimeSpan.FromSeconds(15),
            "both services of the stopped handler actor are withdrawn (the value: those still hosted)");
    }

    // The same, when one of the two services was withdrawn first: the other one's handler is still watched.
    [Fact]
    public async Task A_handler_actor_must_still_take_its_other_service_with_it_when_it_stops_after_one_was_withdrawn()
    {
        await using var node = await MessagingNode.StartAsync("host", Log, Sys);
        var handler = CreateTestProbe();
        var first = node.Messaging.AddService("first", handler.Ref);
        await first.Ready.WithTimeout();
        var second = node.Messaging.AddService("second", handler.Ref);
        await second.Ready.WithTimeout();
        first.Dispose();
        await AwaitConditionAsync(() => node.Messaging.Routes.Current.Service("first") is null, TestTimeouts.Default);

        Sys.Stop(handler.Ref);

        await AwaitConditionAsync(
            () => node.Messaging.Routes.Current.Service("second") is null,
            TestTimeouts.Default,
            message: "service 'second' is still hosted (and announced) by a ServiceActor whose handler actor is dead");
        second.Dispose();
    }

    // docs/architecture.md, Who dials: "ConnectPeer(host, port): dialed at once and kept dialed; the node id is learned at
    // the first handshake", and docs/protocol.md: "A restarted node has a new node id". A node restarted at the address
    // must be redialed like any other after its next drop, and the link of the node that was there before, neither a
    // member nor the target's node any more, must not stay in the directory for good.
    [Fact]
    public async Task An_explicit_target_must_be_kept_dialed_after_the_node_at_its_address_restarted_with_a_new_id()
    {
        var options = new PeerOptions { ReconnectMaxBackoff = TimeSpan.FromMilliseconds(300) };
        await using var a = await TestNode.StartAsync(Log, "a", options);
        var b = await TestNode.StartAsync(Log, "b");
        var (firstId, port) = (b.Id, b.Address.Port);
        a.Dial(b);
        await a.ConnectedPeerAsync(b);

        // The node restarts at the same address, with a new id as restarted nodes have: the target reaches it.
        await b.StopAsync();
        await AwaitConditionAsync(() => !a.Directory.TryGet(firstId, out var old) || !old.IsConnected, TestTimeouts.Default);
        var restarted = await TestNode.StartAsync(Log, "b", port: port);
        var secondId = restarted.Id;
        await a.ConnectedPeerAsync(restarted);

        // Its channel drops once more (it restarts again, this time with the same id): "kept dialed".
        await restarted.StopAsync();
        await AwaitConditionAsync(() => !a.Directory.TryGet(secondId, out var gone) || !gone.IsConnected, TestTimeouts.Default);
        await using var again = await TestNode.StartAsync(Log, "b", id: secondId, port: port);
        await Eventually.UntilAsync(
            () => Task.FromResult(a.Directory.Describe().Select(peer => $"{peer.NodeId} connected={peer.IsConnected}").ToArray()),
            peers => a.Directory.TryGet(secondId, out var back) && back.IsConnected,
            TimeSpan.FromSeconds(15),
            $"a redials its explicit target {again.Address} and reaches {secondId} again (the value: the peers a knows)");

        Assert.False(a.Directory.TryGet(firstId, out _), $"the link of {firstId}, which left the address, is still in a's directory");
        await b.DisposeAsync();
        await restarted.DisposeAsync();
    }

    // docs/protocol.md 7.4: on a duplicate channel "frames already in flight on it are still read and delivered". When the
    // channel that carried the peer is gone first, the node forgets the peer's announcements (PeerDisconnected); an
    // announcement still read from the retired channel afterwards must not bring the peer back into the routes, where
    // nothing ever removes it again: the peer's link is gone, and the node keeps routing to it (HasSubscribers true,
    // requests sent to a closed queue) for good.
    [Fact]
    public async Task A_peer_that_is_gone_must_not_stay_in_the_routes_through_an_announcement_read_from_its_retired_channel()
    {
        const string peerId = "hand-peer";
        await using var node = await MeshNode.StartAsync(new MeshOptions
        {
            NodeName = "node",
            Discovery = new DiscoveryOptions { Registry = "local:" + _root },
            Peers = new PeerOptions { GoodbyeGrace = TimeSpan.FromMinutes(1), LivenessTimeout = TimeSpan.FromMinutes(1) },
            LoggerFactory = new TestLog(Log),
        });
        using var chat = node.Subscribe("chat", TestActor);
        await chat.Ready.WithTimeout();
        var routes = node.MessagingLayer.Routes;
        var address = new DnsEndPoint(node.Self.Host, node.Self.Port);

        // The peer dials twice; the channel with the smaller session id is kept, the first one gets "bye duplicate".
        await using var first = await HandDrivenChannel.DialAsync(address, sessionId: "1");
        await first.HandshakeAsync(peerId);
        await AwaitConditionAsync(() => routes.Current.Peer(peerId) is not null, TestTimeouts.Default);
        await using var second = await HandDrivenChannel.DialAsync(address, sessionId: "0");
        await second.HandshakeAsync(peerId);
        Envelope? read;
        while ((read = await first.ReadAsync()) is not (null or Envelope.Bye))
        {
        }

        Assert.Equal(Envelope.Bye.Duplicate, Assert.IsType<Envelope.Bye>(read).Reason);

        // The kept channel is reset: the node detaches the peer and drops it from its routes.
        second.Channel.Abort("the test resets the kept channel");
        await AwaitConditionAsync(() => node.DescribePeers().Single(peer => peer.NodeId == peerId) is { IsConnected: false }, TestTimeouts.Default);
        await AwaitConditionAsync(() => routes.Current.Peer(peerId) is null, TestTimeouts.Default);

        // What the peer had in flight on the retired channel is still read: an announcement, then a message. Once the
        // message is here, the router was told of the announcement; a round trip through the router makes sure it handled it.
        await first.WriteAsync(new Envelope.Interest(1, ["ghost-topic"], ["ghost"]));
        await first.WriteAsync(new Envelope.Pub("chat", Payload.Null));
        await ExpectMsgAsync<TopicMessage>(message => message.SenderId == peerId);
        await node.TopicRouter.Ask<SubscribeAck>(new Subscribe("barrier", TestActor)).WithTimeout();

        // The peer ends the retired channel too: it has no channel, is no member, and its link is removed.
        await first.Channel.Output.CompleteAsync();
        await AwaitConditionAsync(() => node.DescribePeers().All(peer => peer.NodeId != peerId), TestTimeouts.Default);

        await Eventually.UntilAsync(
            () => Task.FromResult(new[]
            {
                routes.Current.Peer(peerId) is null ? null : $"peer {peerId}",
                routes.Current.Service("ghost") is null ? null : "service ghost",
                node.HasSubscribers("ghost-topic") ? "topic ghost-topic" : null,
            }.OfType<string>().ToArray()),
            left => left.Length == 0,
            TimeSpan.FromSeconds(15),
            $"the node forgets the routes of {peerId}, whose link is gone (the value: what it still routes to it)");
    }
}
