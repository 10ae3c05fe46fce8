using System.Net;
using System.Text;
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
/// A peer that comes back on a new channel (restarted with the same node id, or re-dialing after losing its side of a
/// half-open connection) while this node still holds the old channel: what becomes of the requests in flight on it.
/// </summary>
[Collection(nameof(PeersCollection))]
public sealed class PeerRestartSpec(ITestOutputHelper output) : TestKit(output), IAsyncLifetime
{
    private const string SmallId = "00000000-0000-4000-8000-0000000000e1";

    // Long: the hand-driven peers do not ping, and their channels must not end as hung while a test waits.
    private static readonly PeerOptions LongLiveness = new() { LivenessTimeout = TimeSpan.FromMinutes(1) };

    private readonly string _root = Path.Combine(Path.GetTempPath(), "meshactors-restart-" + Guid.NewGuid().ToString("N"));

    private ITestOutputHelper Log => Output!;

    public Task InitializeAsync() => Task.CompletedTask;

    Task IAsyncLifetime.DisposeAsync()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_request_queued_as_a_restarted_peers_old_requests_fail_must_be_answered_unavailable_not_left_to_its_timeout()
    {
        await using var node = await TestNode.StartAsync(Log, "node", LongLiveness);
        var probe = CreateTestProbe();
        node.Report(probe.Ref);
        var address = node.Address;
        await using var old = await HandDrivenChannel.DialAsync(address, sessionId: null);
        await old.HandshakeAsync("restarting-node", incarnation: "first-run");
        await probe.FishForMessageAsync<RecordingHandler.Connected>(_ => true, TestTimeouts.Default);

        // A caller queues a request for the peer just as the restart fails what was in flight to its old run: its queue
        // is emptied next, of what the old run would have read.
        node.Handler.Disconnecting = peer => peer.TrySend(new Envelope.Req(77, "svc", "1"u8.ToArray()));
        await using var restarted = await HandDrivenChannel.DialAsync(address, sessionId: "0");
        await restarted.HandshakeAsync("restarting-node", incarnation: "second-run");

        var answer = await probe.FishForMessageAsync<RecordingHandler.Received>(received => received.Envelope is Envelope.Err { Id: 77 }, TestTimeouts.Default);
        Assert.Equal(ErrorCodes.Unavailable, ((Envelope.Err)answer.Envelope).Code);
    }

    [Fact]
    public async Task A_peer_back_on_a_new_channel_must_have_its_request_ids_taken_afresh_while_its_old_channels_requests_still_run()
    {
        await using var node = await StartNodeAsync();
        var slowStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await node.AddService<int, int>("slow", async (x, _, cancellationToken) =>
        {
            slowStarted.TrySetResult();
            await gate.Task.WaitAsync(cancellationToken);
            return x;
        }).Ready;
        await node.AddService<int, int>("echo", (x, _, _) => new ValueTask<int>(x)).Ready;
        var address = new DnsEndPoint(node.Self.Host, node.Self.Port);
        try
        {
            // The peer's first incarnation asks for 'slow' with request id 1 (a peer counting its ids from 1) and is lost
            // before the answer: a crash behind a half-open connection, which this node has not noticed yet.
            await using var old = await HandDrivenChannel.DialAsync(address, sessionId: null);
            await old.HandshakeAsync("restarting-node", incarnation: "first-run");
            await old.WriteAsync(new Envelope.Req(1, "slow", "1"u8.ToArray()));
            await slowStarted.Task.WithTimeout();

            // It comes back with the same node id (MeshOptions.NodeId) and dials again; its new channel takes over.
            await using var restarted = await HandDrivenChannel.DialAsync(address, sessionId: "0");
            await restarted.HandshakeAsync("restarting-node", incarnation: "second-run"); // its hello says it is another run
            await Assert.ThrowsAsync<ChannelClosedException>(() => old.NextAsync<Envelope.Bye>()); // the node resets the old run's channel

            // Its counter starts again: request id 1 on the new channel. docs/protocol.md 5.3: an id is "unique among its
            // unanswered requests on this channel"; the old channel's request 1 is no concern of this one.
            await restarted.WriteAsync(new Envelope.Req(1, "echo", "42"u8.ToArray()));
            var answer = await restarted.NextAnswerAsync(1);
            Assert.True(
                answer is Envelope.Res,
                $"request 1 on the new channel was answered {Describe(answer)} instead of being run");
            Assert.Equal("42", Encoding.UTF8.GetString(((Envelope.Res)answer).Data.Span));
        }
        finally
        {
            gate.TrySetResult();
        }
    }

    [Fact]
    public async Task A_request_in_flight_on_a_channel_its_provider_replaced_must_fail_once_that_channel_is_gone_not_at_its_timeout()
    {
        await using var node = await StartNodeAsync();
        var address = new DnsEndPoint(node.Self.Host, node.Self.Port);

        // A provider of 'work' on its first channel.
        await using var old = await HandDrivenChannel.DialAsync(address, sessionId: null);
        await old.HandshakeAsync("provider-node", incarnation: "first-run");
        await old.WriteAsync(new Envelope.Interest(1, [], ["work"]));
        await AwaitConditionAsync(() => node.MessagingLayer.Routes.Current.Service("work") is not null, TestTimeouts.Default, message: "the node to see the provider");

        // The node asks; the request goes out on that channel, and the provider is lost before it answers.
        var call = node.RequestAsync<int, int>("work", 1, new RequestOptions { Timeout = TimeSpan.FromMinutes(2) });
        var req = await old.NextAsync<Envelope.Req>();
        Assert.Equal("work", req.Service);

        // The provider (restarted with its node id, or re-dialing after losing its side of the channel) comes back on a
        // new channel, which takes over; the old channel is then reset. Nothing can answer the request any more: the
        // channel it went out on is gone (docs/protocol.md 5.3: answered "on the same channel").
        await using var restarted = await HandDrivenChannel.DialAsync(address, sessionId: "0");
        await restarted.HandshakeAsync("provider-node", incarnation: "second-run"); // its hello says it is another run
        await Assert.ThrowsAsync<ChannelClosedException>(() => old.NextAsync<Envelope.Bye>()); // the node resets the old run's channel
        using var stop = new CancellationTokenSource();
        var alive = restarted.AnswerPingsAsync(stop.Token); // the provider is alive and well on its new channel
        await AwaitConditionAsync(() => node.DescribePeers().Single(peer => peer.NodeId == "provider-node").IsConnected, TestTimeouts.Default);

        // docs/messaging.md, Errors: "the provider's channel closed mid-request (it crashed or left): PeerUnavailableException
        // at once, not at the timeout", here well before the call's two minutes.
        var failure = await Record.ExceptionAsync(() => call.WaitAsync(TestTimeouts.Default));
        Assert.True(
            failure is PeerUnavailableException,
            $"the call was still waiting {TestTimeouts.Default.TotalSeconds:0} s after the channel that carried it was gone ({failure?.GetType().Name}: {failure?.Message})");
        await stop.CancelAsync();
        await alive;
    }

    [Fact]
    public async Task A_request_waiting_for_room_when_its_providers_channel_drops_must_not_wait_out_its_timeout_but_go_to_another_provider()
    {
        // Fixed ids: the doomed provider has the smaller id, so the client waits for its dials and never dials it. Once
        // their channel drops, neither dials again within the test: the provider is a member still, but not back yet.
        var notSoon = TimeSpan.FromMinutes(10);
        await using var client = await StartNodeAsync("client", "ffffffff-0000-4000-8000-000000000001", new PeerOptions { DialGrace = notSoon });
        await using var doomed = await StartNodeAsync(
            "doomed", "00000000-0000-4000-8000-000000000001", new PeerOptions { ReconnectMinBackoff = notSoon, ReconnectMaxBackoff = notSoon },
            new MessagingOptions { SubscriberBacklogLimit = 10 });
        await using var survivor = await StartNodeAsync("survivor");
        await AwaitConditionAsync(
            () => Connected(client, doomed) && Connected(client, survivor) && Connected(doomed, survivor), TestTimeouts.Default, message: "the three nodes connected");
        var gate = new TaskCompletionSource();
        await doomed.Subscribe<byte[]>("stuck", async (_, _) => await gate.Task).Ready;
        await doomed.AddService<int, string>("work", (_, _, _) => new ValueTask<string>("doomed")).Ready;
        await survivor.AddService<int, string>("work", (_, _, _) => new ValueTask<string>("survivor")).Ready;
        await AwaitConditionAsync(
            () => client.MessagingLayer.Routes.Current.Topic("stuck") is not null && client.MessagingLayer.Routes.Current.Service("work")?.Providers.Count == 2,
            TestTimeouts.Default,
            message: "the client to see the subscriber and both providers");
        try
        {
            // The doomed node stops reading its channel from the client, whose queue to it
            // fills until senders wait for room.
            await QueueBackup.PublishUntilStalledAsync(client, doomed.Id, "stuck");

            // Round robin alternates: within two tries a request waits for room in the doomed node's queue, unsent.
            var patient = new RequestOptions { Timeout = TimeSpan.FromMinutes(2) };
            Task<string> call;
            do
            {
                call = client.RequestAsync<int, string>("work", 1, patient);
                await AwaitConditionAsync(() => call.IsCompleted
                    || client.MessagingLayer.Routes.Current.Service("work")!.Providers.Single(p => p.NodeId == doomed.Id).OutstandingRequests == 1);
            }
            while (call.IsCompleted);

            // The provider's channel drops (a crash, a reset connection); it stays a member, and is not back yet.
            client.Peers.Tell(new PeerManagerActor.ResetChannels(doomed.Id));
            await AwaitConditionAsync(() => !Connected(client, doomed), TestTimeouts.Default, message: "the client to lose the doomed node");

            // The request never reached the queue, let alone the provider: docs/messaging.md has it go to another
            // provider (the provider did not run it), rather than wait for room until its timeout (two minutes).
            var outcome = await Record.ExceptionAsync(async () => Assert.Equal("survivor", await call.WaitAsync(TestTimeouts.Default)));
            Assert.True(
                outcome is null,
                $"{TestTimeouts.Default.TotalSeconds:0} s after the provider's channel dropped the request still waited for room in its queue ({outcome?.GetType().Name}: {outcome?.Message})");
        }
        finally
        {
            gate.TrySetResult();
        }
    }

    // docs/protocol.md 7.4: after a "bye duplicate" that comes before the kept channel's hello, "the receiver keeps the
    // peer connected ... for as long as a handshake may take". If the channel that then comes names another incarnation,
    // the peer restarted meanwhile: "the node then ends what was in flight with the old run as if its channel had
    // closed: it fails its own unanswered requests to that node". And 5.7: "a node sends its current announcement right
    // after the handshake", or the new run would never hear what this node hosts.
    [Fact]
    public async Task A_node_restarted_while_its_kept_channel_was_awaited_must_fail_the_requests_to_its_previous_run_and_hear_this_nodes_interest()
    {
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
        await using var large = await StartNodeAsync("large", "ffffffff-0000-4000-8000-0000000000e2", LongLiveness);
        await large.AddService<int, int>("on-large", (x, _, _) => ValueTask.FromResult(x)).Ready;
        try
        {
            // The first run of 'small' (hand-driven): 'large' dials it, and sends it a request.
            large.Peers.Tell(new PeerManagerActor.ConnectPeer(listener.AdvertisedEndPoint.Host, listener.AdvertisedEndPoint.Port));
            var firstRun = new HandDrivenChannel(await accepted.Reader.ReadAsync().AsTask().WithTimeout());
            await firstRun.WriteAsync(new Envelope.Hello(SmallId, "small", [WireProtocol.BinaryCapability]) { Incarnation = "first-run" });
            Assert.IsType<Envelope.Hello>(await firstRun.NextAsync());
            await firstRun.WriteAsync(new Envelope.Interest(1, [], ["work"]));
            await AwaitConditionAsync(() => large.MessagingLayer.Routes.Current.Service("work") is not null, TestTimeouts.Default, message: "large to see the service");
            var call = large.RequestAsync<int, int>("work", 1, new RequestOptions { Timeout = TimeSpan.FromMinutes(2) });
            await firstRun.NextAsync<Envelope.Req>();

            // It retires that channel as a duplicate of one whose hello has not reached 'large' yet; 'large' waits for it.
            await firstRun.WriteAsync(new Envelope.Bye(Envelope.Bye.Duplicate));
            await firstRun.Channel.Output.CompleteAsync();
            while (await firstRun.NextAsync() is not null)
            {
            }

            await AwaitConditionAsync(
                () => metrics.Collect().GetValueOrDefault((large.Id, "meshactors.channels.open", null), -1) == 0,
                TestTimeouts.Default,
                message: "large to be done with the retired channel");

            // Then 'small' crashes and starts again with its node id: its new run dials 'large'.
            var metadata = new Dictionary<string, string> { [WireProtocol.VersionHeader] = "1" };
            var secondRun = new HandDrivenChannel(await dialer.OpenChannelAsync(new DnsEndPoint(large.Self.Host, large.Self.Port), "0", metadata).WithTimeout());
            Assert.IsType<Envelope.Hello>(await secondRun.NextAsync());
            await secondRun.WriteAsync(new Envelope.Hello(SmallId, "small", [WireProtocol.BinaryCapability]) { Incarnation = "second-run" });

            var announcement = Record.ExceptionAsync(() => secondRun.NextAsync<Envelope.Interest>().WaitAsync(TestTimeouts.Default));
            var failed = await Record.ExceptionAsync(() => call.WaitAsync(TestTimeouts.Default));
            var announced = await announcement;
            Assert.True(
                failed is PeerUnavailableException && announced is null,
                $"after the restart: the request to the previous run: {Describe(failed)}; large's interest on the new run's channel: {Describe(announced)}");
        }
        finally
        {
            release.TrySetResult();
        }
    }

    // docs/protocol.md 7.4: a channel from another incarnation "wins whoever dialled either: the old run is gone", and
    // "the node then ends what was in flight with the old run as if its channel had closed" (8: "frames in flight when a
    // channel fails are lost"). What the old run announced late must not be taken for the new run's: with a version the
    // new run's own announcements could not pass, the new run's services would stay unseen.
    [Fact]
    public async Task An_announcement_read_late_from_the_previous_runs_channel_must_not_hide_what_the_restarted_run_announces()
    {
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
        await using var large = await StartNodeAsync("large", "ffffffff-0000-4000-8000-0000000000e3", LongLiveness);
        try
        {
            // The first run of 'small': 'large' dials it; the run announced a few times already.
            large.Peers.Tell(new PeerManagerActor.ConnectPeer(listener.AdvertisedEndPoint.Host, listener.AdvertisedEndPoint.Port));
            var firstRun = new HandDrivenChannel(await accepted.Reader.ReadAsync().AsTask().WithTimeout());
            await firstRun.WriteAsync(new Envelope.Hello(SmallId, "small", [WireProtocol.BinaryCapability]) { Incarnation = "first-run" });
            Assert.IsType<Envelope.Hello>(await firstRun.NextAsync());
            await firstRun.WriteAsync(new Envelope.Interest(1, [], ["old-work"]));
            await AwaitConditionAsync(() => large.MessagingLayer.Routes.Current.Service("old-work") is not null, TestTimeouts.Default, message: "large to see old-work");

            // 'small' restarts with its node id; its new run dials 'large', takes over, and announces what it hosts.
            var metadata = new Dictionary<string, string> { [WireProtocol.VersionHeader] = "1" };
            var secondRun = new HandDrivenChannel(await dialer.OpenChannelAsync(new DnsEndPoint(large.Self.Host, large.Self.Port), "0", metadata).WithTimeout());
            Assert.IsType<Envelope.Hello>(await secondRun.NextAsync());
            await secondRun.WriteAsync(new Envelope.Hello(SmallId, "small", [WireProtocol.BinaryCapability]) { Incarnation = "second-run" });
            await Assert.ThrowsAnyAsync<ChannelClosedException>(() => firstRun.NextAsync<Envelope.Bye>()); // the old run's channel is reset
            await secondRun.WriteAsync(new Envelope.Interest(1, [], ["work"]));
            await AwaitConditionAsync(() => large.MessagingLayer.Routes.Current.Service("work") is not null, TestTimeouts.Default, message: "large to see the new run's service");

            // What the old run wrote before it died comes too late: its channel is gone.
            await Record.ExceptionAsync(() => firstRun.WriteAsync(new Envelope.Interest(9, [], ["old-work"])));

            await AwaitConditionAsync(
                () => metrics.Collect().GetValueOrDefault((large.Id, "meshactors.channels.open", null), -1) == 1,
                TestTimeouts.Default,
                message: "large to be done with the old run's channel");

            // The new run hosts one more service.
            await secondRun.WriteAsync(new Envelope.Interest(2, [], ["work", "more-work"]));
            var seen = await Record.ExceptionAsync(() => AwaitConditionAsync(
                () => large.MessagingLayer.Routes.Current.Service("more-work") is not null, TestTimeouts.Default, message: "large to see more-work"));
            Assert.True(
                seen is null,
                $"the restarted run's announcement was ignored: large routes old-work: {large.MessagingLayer.Routes.Current.Service("old-work") is not null}, "
                + $"work: {large.MessagingLayer.Routes.Current.Service("work") is not null}, more-work: {large.MessagingLayer.Routes.Current.Service("more-work") is not null}");
        }
        finally
        {
            release.TrySetResult();
        }
    }

    // docs/protocol.md 7.4: a peer that comes back on a new channel has started afresh, and this node "takes request ids on
    // the new channel afresh"; 5.3: a request is answered on the channel it came on. An answer to the old incarnation's
    // request 1 that was still waiting for room in the peer's queue when the new channel took over must not reach the
    // new incarnation, whose own request 1 would get it (or be refused as a duplicate of a request "in flight").
    [Fact]
    public async Task A_restarted_peers_request_must_get_its_own_answer_not_one_queued_for_its_old_channel()
    {
        await using var node = await StartNodeAsync("node");
        var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await node.AddService<int, int>("echo", (x, _, _) =>
        {
            if (x == 2)
                answered.TrySetResult();
            return new ValueTask<int>(x);
        }).Ready;
        var address = new DnsEndPoint(node.Self.Host, node.Self.Port);

        // The peer's first incarnation subscribes to a topic, then stops reading (a process about to crash): the node's
        // queue to it fills until senders wait for room.
        await using var old = await HandDrivenChannel.DialAsync(address, sessionId: null);
        await old.HandshakeAsync("restarting-node", incarnation: "first-run");
        await old.WriteAsync(new Envelope.Interest(1, ["fill"], []));
        await AwaitConditionAsync(() => node.MessagingLayer.Routes.Current.Topic("fill") is not null, TestTimeouts.Default, message: "the node to see the subscriber");
        await QueueBackup.PublishUntilStalledAsync(node, "restarting-node", "fill");

        // Its request 1 runs at once; the answer waits for room behind the backlog. (The service actor runs one request
        // at a time: once request 2 runs, request 1's answer has been handed to the queue.)
        await old.WriteAsync(new Envelope.Req(1, "echo", "1"u8.ToArray()));
        await old.WriteAsync(new Envelope.Req(2, "echo", "2"u8.ToArray()));
        await answered.Task.WithTimeout();

        // The peer restarts with its node id and dials again: the new channel takes over, and its counter starts again.
        await using var restarted = await HandDrivenChannel.DialAsync(address, sessionId: "0");
        await restarted.HandshakeAsync("restarting-node", incarnation: "second-run"); // its hello says it is another run
        await restarted.WriteAsync(new Envelope.Req(1, "echo", "42"u8.ToArray()));

        var answer = await restarted.NextAnswerAsync(1);
        Assert.True(
            answer is Envelope.Res { } res && Encoding.UTF8.GetString(res.Data.Span) == "42",
            $"the new channel's request 1 (echo 42) was answered {Describe(answer)}");
    }

    // docs/protocol.md 7.4: "A channel whose hello names another incarnation than the channel that carries a node id comes
    // from a restarted node ... The node then resets the old run's channels, so that nothing the old run still sends is
    // taken for the new run's". The old run had a second channel whose hello was still on its way when the new run took
    // over. That late hello names the run the node has just seen replaced: it must be turned away, not taken for yet
    // another restart (the dead run's channel would take the peer back, and the live run's be reset).
    [Fact]
    public async Task A_late_hello_from_a_run_already_replaced_must_not_take_the_peer_back_from_its_restarted_run()
    {
        await using var node = await StartNodeAsync(peers: LongLiveness);
        await node.AddService<int, int>("echo", (x, _, _) => ValueTask.FromResult(x)).Ready; // the node has an announcement to make
        var address = new DnsEndPoint(node.Self.Host, node.Self.Port);

        // The first run: one channel handshaken, a second one opened whose hello has not reached the node yet.
        await using var firstRun = await HandDrivenChannel.DialAsync(address, "2");
        await firstRun.HandshakeAsync("restarting-node", incarnation: "first-run");
        await using var firstRunLate = await HandDrivenChannel.DialAsync(address, "1");
        Assert.IsType<Envelope.Hello>(await firstRunLate.ReadAsync()); // the node's hello; the peer's own is delayed

        // The node restarts with its id: the new run dials, takes over, and the node resets the first run's channel.
        await using var secondRun = await HandDrivenChannel.DialAsync(address, "3");
        await secondRun.HandshakeAsync("restarting-node", incarnation: "second-run");
        await Assert.ThrowsAsync<ChannelClosedException>(() => firstRun.NextAsync<Envelope.Bye>());
        await secondRun.WriteAsync(new Envelope.Interest(1, [], ["work"]));
        await AwaitConditionAsync(() => node.MessagingLayer.Routes.Current.Service("work") is not null, TestTimeouts.Default, message: "the node to route work to the new run");

        // The first run's delayed hello arrives now: the node turns that channel away rather than take it for the peer's
        // current run and announce its interest on it.
        await firstRunLate.WriteAsync(new Envelope.Hello("restarting-node", "raw", [WireProtocol.BinaryCapability]) { Incarnation = "first-run" });
        var late = await Record.ExceptionAsync(() => firstRunLate.NextAsync<Envelope.Interest>());

        // The new run must still carry the peer: a request to its service goes out on its channel and is answered.
        var call = node.RequestAsync<int, int>("work", 41, new RequestOptions { Timeout = TimeSpan.FromSeconds(20), WaitForProvider = TimeSpan.FromSeconds(5) });
        var served = await Record.ExceptionAsync(async () =>
        {
            var req = await secondRun.NextAsync<Envelope.Req>().WaitAsync(TestTimeouts.Default);
            await secondRun.WriteAsync(new Envelope.Res(req.Id, "42"u8.ToArray()));
            Assert.Equal(42, await call.WaitAsync(TestTimeouts.Default));
        });
        Assert.True(
            late is not null && served is null,
            $"the first run's late channel {(late is null ? "took the peer back (it was sent this node's interest)" : "was turned away")}; "
            + $"the request to the restarted run: {(served is null ? "answered" : $"{served.GetType().Name}: {served.Message}")}; "
            + $"peer: {string.Join(", ", node.DescribePeers().Select(p => $"{p.NodeId} connected={p.IsConnected}"))}");
    }

    private static bool Connected(MeshNode node, MeshNode other) => node.DescribePeers().Any(peer => peer.NodeId == other.Id && peer.IsConnected);


    private static string Describe(Exception? outcome) => outcome is null ? "none" : $"{outcome.GetType().Name}: {outcome.Message}";

    private static string Describe(Envelope answer) => answer switch
    {
        Envelope.Err err => $"err {err.Code}: {err.Message}",
        _ => answer.Type,
    };

    private async Task<MeshNode> StartNodeAsync(string name = "node", string? id = null, PeerOptions? peers = null, MessagingOptions? messaging = null) =>
        await MeshNode.StartAsync(new MeshOptions
        {
            NodeName = name,
            NodeId = id,
            Discovery = new DiscoveryOptions { Registry = "local:" + _root, HeartbeatInterval = TimeSpan.FromMilliseconds(250), Ttl = TimeSpan.FromSeconds(2) },
            Peers = peers ?? new PeerOptions(),
            Messaging = messaging ?? new MessagingOptions(),
            LoggerFactory = new TestLog(Log),
        });
}
