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
/// A node restarted with its node id (hello's <c>incarnation</c>, docs/protocol.md 5.1 and 7.4) while this node still
/// held something of its previous run: the wait for a kept channel after a <c>bye duplicate</c>, or the old run's
/// retired channel.
/// </summary>
[Collection(nameof(PeersCollection))]
public sealed class RestartIncarnationSpec(ITestOutputHelper output) : TestKit(output), IAsyncLifetime
{
    private const string SmallId = "00000000-0000-4000-8000-0000000000e1";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "meshactors-incarnation-" + Guid.NewGuid().ToString("N"));

    private ITestOutputHelper Log => Output!;

    public Task InitializeAsync() => Task.CompletedTask;

    Task IAsyncLifetime.DisposeAsync()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    // docs/protocol.md 7.4: after a "bye duplicate" that comes before the kept channel's hello, "the receiver keeps the
    // peer connected ... for as long as a handshake may take". If the channel that then comes names another incarnation,
    // the peer restarted meanwhile: "the node then ends what was in flight with the old run as if its channel had
    // closed: it fails its own unanswered requests to that node". And 5.7: "a node sends its current announcement right
    // after the handshake". The node does neither: its request waits for its timeout, and the new run never hears
    // what this node hosts.
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
        await using var large = await StartNodeAsync("large", "ffffffff-0000-4000-8000-0000000000e2");
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
    // channel fails are lost"). The retired channel of the old run is still read, and its frames are taken for the
    // new run's: what the old run announced late (read only now, e.g. after a paused read) replaces the new run's
    // announcement, with a version the new run's own announcements cannot pass, so the new run's services stay unseen.
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
        await using var large = await StartNodeAsync("large", "ffffffff-0000-4000-8000-0000000000e3");
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

    private static string Describe(Exception? outcome) => outcome is null ? "none" : $"{outcome.GetType().Name}: {outcome.Message}";

    private async Task<MeshNode> StartNodeAsync(string name, string id) =>
        await MeshNode.StartAsync(new MeshOptions
        {
            NodeName = name,
            NodeId = id,
            Discovery = new DiscoveryOptions { Registry = "local:" + _root, HeartbeatInterval = TimeSpan.FromMilliseconds(250), Ttl = TimeSpan.FromSeconds(2) },
            // Long: the hand-driven peers do not ping, and their channels must not end as hung while a test waits.
            Peers = new PeerOptions { LivenessTimeout = TimeSpan.FromMinutes(1) },
            LoggerFactory = new TestLog(Log),
        });
}
