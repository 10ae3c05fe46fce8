using System.Net;
using MeshActors.Discovery;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Tests.Mesh;
using MeshActors.Tests.Transport;
using MeshActors.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Peers;

using MeshActors.TestKit;

/// <summary>
/// Two channels between the same two nodes while requests are in flight (docs/protocol.md 7.4): the one kept carries
/// everything, and a duplicate's retirement loses nothing.
/// </summary>
[Collection(nameof(PeersCollection))]
public sealed class DuplicateChannelTakeoverSpec(ITestOutputHelper output) : TestKit(output), IAsyncLifetime
{
    private const int DuplicateChannelEvent = 4004;
    private const int ChannelEndedEvent = 4011;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "meshactors-dup-" + Guid.NewGuid().ToString("N"));

    private ITestOutputHelper Log => Output!;

    public Task InitializeAsync() => Task.CompletedTask;

    Task IAsyncLifetime.DisposeAsync()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task An_explicit_target_at_a_connected_members_address_must_not_fail_or_cancel_the_requests_in_flight_between_the_two_nodes()
    {
        // Fixed ids: 'small' dials 'large' as a member (the dial rule), so both channels below are dialed by 'small'.
        var largeLog = new TestLog(Log);
        var smallLog = new TestLog(Log);
        await using var large = await StartNodeAsync("large", "ffffffff-0000-4000-8000-000000000001", largeLog);
        await using var small = await StartNodeAsync("small", "00000000-0000-4000-8000-000000000001", smallLog);
        await AwaitConditionAsync(() => Connected(small, large) && Connected(large, small), TestTimeouts.Default, message: "the two nodes connected");

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var largeServing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var smallServing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelledOnLarge = 0;
        await large.AddService<int, int>("on-large", async (x, _, cancellationToken) =>
        {
            largeServing.TrySetResult();
            try
            {
                await gate.Task.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref cancelledOnLarge);
                throw;
            }

            return x + 1;
        }).Ready;
        await small.AddService<int, int>("on-small", async (x, _, cancellationToken) =>
        {
            smallServing.TrySetResult();
            await gate.Task.WaitAsync(cancellationToken);
            return x + 2;
        }).Ready;
        await AwaitConditionAsync(
            () => small.MessagingLayer.Routes.Current.Service("on-large") is not null && large.MessagingLayer.Routes.Current.Service("on-small") is not null,
            TestTimeouts.Default,
            message: "each node to see the other's service");

        try
        {
            // A request in flight each way: neither is idempotent, so neither may be given up or run again.
            var patient = new RequestOptions { Timeout = TimeSpan.FromMinutes(2) };
            var fromSmall = small.RequestAsync<int, int>("on-large", 10, patient);
            var fromLarge = large.RequestAsync<int, int>("on-small", 20, patient);
            await largeServing.Task.WithTimeout();
            await smallServing.Task.WithTimeout();

            // 'small' is also told to keep a channel to that address (ConnectPeer): it dials a second channel to 'large',
            // which is newer and so, by its smaller session id, the one both keep; the first retires with "bye duplicate".
            small.Peers.Tell(new PeerManagerActor.ConnectPeer(large.Self.Host, large.Self.Port));
            await AwaitConditionAsync(
                () => smallLog.Count(DuplicateChannelEvent) >= 1 && largeLog.Count(DuplicateChannelEvent) >= 1
                    && smallLog.Count(ChannelEndedEvent, "(duplicate)") >= 1 && largeLog.Count(ChannelEndedEvent, "(duplicate)") >= 1,
                TestTimeouts.Default,
                message: "both nodes to keep the new channel and end the old one");

            // docs/protocol.md 7.4: a duplicate's "bye" "does not fail the requests in flight: both nodes go on as one
            // link, and the answers to requests sent on the retired channel come on the kept one". 'small' did not
            // restart: it still waits for its answer, and still holds the request 'large' sent it.
            gate.TrySetResult();
            var fromLargeOutcome = await Record.ExceptionAsync(async () => Assert.Equal(22, await fromLarge.WaitAsync(TestTimeouts.Default)));
            var fromSmallOutcome = await Record.ExceptionAsync(async () => Assert.Equal(11, await fromSmall.WaitAsync(TestTimeouts.Default)));
            Assert.True(
                fromLargeOutcome is null && fromSmallOutcome is null && Volatile.Read(ref cancelledOnLarge) == 0,
                $"after the duplicate's retirement: large's request to small: {Describe(fromLargeOutcome)}; small's request to large: "
                + $"{Describe(fromSmallOutcome)} (its handler on large was cancelled {Volatile.Read(ref cancelledOnLarge)} time(s))");
        }
        finally
        {
            gate.TrySetResult();
        }
    }

    [Fact]
    public async Task A_duplicate_bye_on_the_channel_that_carries_the_peer_must_not_fail_the_requests_in_flight_when_the_kept_channels_hello_comes_after_it()
    {
        // Node 'small' (hand-driven, the smaller id) and the node 'large' dial each other at the same moment ('large' is
        // told to ConnectPeer, so it dials at once). At 'small' the channel 'large' dialed is handshaken first and carries
        // the peer; then its own channel is, and outranks it: 'small' sends "bye duplicate" on the channel 'large' dialed.
        const string smallId = "00000000-0000-4000-8000-00000000000a";
        using var metrics = new MeshMeterListener();
        var accepted = System.Threading.Channels.Channel.CreateUnbounded<MeshChannel>();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var listener = new MeshListener("small", new TransportOptions(), channel =>
        {
            accepted.Writer.TryWrite(channel);
            return release.Task;
        }, loggerFactory: new TestLog(Log));
        await listener.StartAsync().WithTimeout();
        using var dialer = new MeshDialer("small", new TransportOptions());
        await using var large = await StartNodeAsync("large", "ffffffff-0000-4000-8000-00000000000b", new TestLog(Log));
        try
        {
            large.Peers.Tell(new PeerManagerActor.ConnectPeer(listener.AdvertisedEndPoint.Host, listener.AdvertisedEndPoint.Port));
            var dialedByLarge = new HandDrivenChannel(await accepted.Reader.ReadAsync().AsTask().WithTimeout());
            await dialedByLarge.WriteAsync(new Envelope.Hello(smallId, "small", [WireProtocol.BinaryCapability]));
            Assert.IsType<Envelope.Hello>(await dialedByLarge.NextAsync());
            await dialedByLarge.WriteAsync(new Envelope.Interest(1, [], ["work"]));
            await AwaitConditionAsync(() => large.MessagingLayer.Routes.Current.Service("work") is not null, TestTimeouts.Default, message: "large to see the service");

            // A request in flight on that channel.
            var call = large.RequestAsync<int, int>("work", 1, new RequestOptions { Timeout = TimeSpan.FromMinutes(2) });
            var req = await dialedByLarge.NextAsync<Envelope.Req>();

            // 'small' dials too. Its hello on that channel travels on its own connection, the bye below on the one 'large'
            // dialed: nothing orders the two at 'large'. Here the bye comes first, and 'large' has ended its side of the
            // retired channel before the hello of the kept one arrives.
            var metadata = new Dictionary<string, string> { [WireProtocol.VersionHeader] = "1" };
            var dialedBySmall = new HandDrivenChannel(await dialer.OpenChannelAsync(new DnsEndPoint(large.Self.Host, large.Self.Port), "0", metadata).WithTimeout());
            Assert.IsType<Envelope.Hello>(await dialedBySmall.NextAsync());
            await dialedByLarge.WriteAsync(new Envelope.Bye(Envelope.Bye.Duplicate));
            await dialedByLarge.Channel.Output.CompleteAsync();
            while (await dialedByLarge.NextAsync() is not null)
            {
            }

            await AwaitConditionAsync(
                () => metrics.Collect().GetValueOrDefault((large.Id, "meshactors.channels.open", null), -1) == 0,
                TestTimeouts.Default,
                message: "large to be done with the retired channel");

            await dialedBySmall.WriteAsync(new Envelope.Hello(smallId, "small", [WireProtocol.BinaryCapability]));

            // docs/protocol.md 7.4: a "duplicate" bye "does not fail the requests in flight ... the answers to requests
            // sent on the retired channel come on the kept one"; and 8: "when that channel is retired as a duplicate, on
            // the channel kept".
            await dialedBySmall.WriteAsync(new Envelope.Res(req.Id, "2"u8.ToArray()));
            var outcome = await Record.ExceptionAsync(async () => Assert.Equal(2, await call.WaitAsync(TestTimeouts.Default)));
            Assert.True(outcome is null, $"the request sent on the retired channel was not answered on the kept one: {Describe(outcome)}");
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Fact]
    public async Task A_node_restarted_with_the_larger_id_must_be_taken_back_at_once_not_turned_away_for_the_half_open_channel_the_other_node_dialed()
    {
        // 'small' dialed 'large' (the dial rule: the smaller id dials). 'large' is then lost behind a half-open connection
        // (played by a listener that handshakes and then never reads or writes again), which 'small' cannot notice before
        // its liveness timeout, here a long one.
        const string largeId = "ffffffff-0000-4000-8000-00000000000c";
        var accepted = System.Threading.Channels.Channel.CreateUnbounded<MeshChannel>();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var halfOpen = new MeshListener("large", new TransportOptions(), channel =>
        {
            accepted.Writer.TryWrite(channel);
            return release.Task;
        }, loggerFactory: new TestLog(Log));
        await halfOpen.StartAsync().WithTimeout();
        await using var small = await TestNode.StartAsync(
            Log, "small", new PeerOptions { LivenessTimeout = TimeSpan.FromMinutes(1) }, id: "00000000-0000-4000-8000-00000000000d");
        try
        {
            small.System.EventStream.Publish(new MemberUp(new MeshMember(largeId, "large", halfOpen.AdvertisedEndPoint.Host, halfOpen.AdvertisedEndPoint.Port)
            {
                ProtocolVersion = WireProtocol.Version,
            }));
            var old = new HandDrivenChannel(await accepted.Reader.ReadAsync().AsTask().WithTimeout());
            await old.WriteAsync(new Envelope.Hello(largeId, "large", [WireProtocol.BinaryCapability]) { Incarnation = "earlier-run" });
            Assert.IsType<Envelope.Hello>(await old.NextAsync());
            var peer = await small.ConnectedPeerAsync(largeId);

            // 'large' restarts with its node id (MeshOptions.NodeId) and dials 'small' again.
            var probe = CreateTestProbe();
            await using var restarted = await TestNode.StartAsync(Log, "large", id: largeId);
            restarted.Handler.Probe = probe.Ref;
            restarted.Dial(small);
            await restarted.ConnectedPeerAsync(small);

            // "A restarted node (same id) is taken back at once": what 'small' sends to it now must reach it, rather than
            // go into the half-open channel until 'small' gives that up as hung.
            Assert.True(peer.TrySend(new Envelope.Pub("after-restart", "1"u8.ToArray())));
            var received = await probe.FishForMessageAsync<RecordingHandler.Received>(
                message => message.Envelope is Envelope.Pub { Topic: "after-restart" }, TestTimeouts.Default);
            Assert.Equal(small.Id, received.Peer.NodeId);
        }
        finally
        {
            release.TrySetResult();
        }
    }

    private static string Describe(Exception? outcome) => outcome is null ? "answered" : $"{outcome.GetType().Name}: {outcome.Message}";

    private static bool Connected(MeshNode node, MeshNode other) => node.DescribePeers().Any(peer => peer.NodeId == other.Id && peer.IsConnected);

    private async Task<MeshNode> StartNodeAsync(string name, string id, TestLog log, PeerOptions? peers = null) =>
        await MeshNode.StartAsync(new MeshOptions
        {
            NodeName = name,
            NodeId = id,
            Discovery = new DiscoveryOptions { Registry = "local:" + _root, HeartbeatInterval = TimeSpan.FromMilliseconds(250), Ttl = TimeSpan.FromSeconds(2) },
            Peers = peers ?? new PeerOptions(),
            LoggerFactory = log,
        });
}
