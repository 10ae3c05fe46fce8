using System.Net;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Tests.Mesh;
using MeshActors.Tests.Peers;
using Xunit.Abstractions;

namespace MeshActors.Tests.Messaging;

using MeshActors.TestKit;

/// <summary>
/// Requests that a provider provably never got (docs/messaging.md, Errors and Guarantees): they go to another
/// provider, idempotent or not, instead of failing as if they had been in flight.
/// </summary>
public sealed class UnsentRequestSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    /// <summary>
    /// docs/messaging.md, Errors: when the provider restarted, "one still waiting for room in the provider's queue, or
    /// queued as the restart was noticed, was never sent, and goes to another provider"; docs/protocol.md 7.4: what was
    /// queued for the old run is dropped. A request that sits in the queue to a provider whose old run stopped reading
    /// (its channel half-open) is dropped with that queue when the new run's hello arrives: it was never written, so
    /// its caller must get another provider's answer, not a <see cref="PeerUnavailableException"/> for a request "in flight".
    /// </summary>
    [Fact]
    public async Task A_request_still_queued_for_a_provider_that_restarted_must_go_to_another_provider()
    {
        var (call, address, providerId, oldRun) = await RequestQueuedBehindStalledProvider();
        await using var _ = oldRun;

        // The provider restarts with its node id: its new run's hello names another incarnation.
        await using var newRun = await HandDrivenChannel.DialAsync(address, sessionId: "0");
        await newRun.HandshakeAsync(providerId, incarnation: "second-run");

        await AssertAnsweredByBackup(call, "dropped unsent from the restarted provider's queue");
    }

    [Fact]
    public async Task A_request_still_queued_for_a_provider_whose_channel_is_lost_must_go_to_another_provider()
    {
        var (call, _, _, oldRun) = await RequestQueuedBehindStalledProvider();

        await oldRun.DisposeAsync(); // the provider's channel is lost, the request still in the client's queue to it

        await AssertAnsweredByBackup(call, "still queued, unsent, when the provider's channel was lost");
    }

    /// <summary>
    /// docs/protocol.md 7.4: a peer that retires its channel as a duplicate keeps another, whose hello this node awaits,
    /// the peer still connected meanwhile. A request queued in that wait was never sent: when this node stops in it, the
    /// caller must hear so at once (as it does for a peer whose channel closes at the stop), not wait out its timeout.
    /// </summary>
    [Fact]
    public async Task A_request_queued_while_a_kept_channel_is_awaited_must_end_at_once_when_the_node_stops()
    {
        using var metrics = new MeshMeterListener();
        var client = await Start("client", peers: new PeerOptions { GoodbyeGrace = TimeSpan.FromSeconds(1) });
        var providerId = "hand-" + Guid.NewGuid().ToString("N");
        await using var provider = await HandDrivenChannel.DialAsync(new DnsEndPoint(client.Self.Host, client.Self.Port));
        await provider.HandshakeAsync(providerId, incarnation: "run");
        await provider.WriteAsync(new Envelope.Interest(1, [], ["work"]));
        await WaitForProviders(client, "work", 1);

        // The provider retires its channel as a duplicate of one whose hello has not come: the client waits for it.
        await provider.WriteAsync(new Envelope.Bye(Envelope.Bye.Duplicate));
        await provider.Channel.Output.CompleteAsync();
        while (await provider.ReadAsync() is not null)
        {
        }

        await AwaitConditionAsync(
            () => metrics.Collect().GetValueOrDefault((client.Id, "meshactors.channels.open", null), -1) == 0,
            TestTimeouts.Default,
            message: "the client to be done with the retired channel");
        Assert.True(Queue(client, providerId).IsConnected, "the client waits for the kept channel");

        var call = client.RequestAsync<int, int>("work", 3, new RequestOptions { Timeout = TimeSpan.FromMinutes(2) });
        await AwaitConditionAsync(() => Queue(client, providerId).QueuedBytes > 0, TestTimeouts.Default, message: "the request to be queued");
        Assert.False(call.IsCompleted);

        await client.StopAsync().WithTimeout();

        var outcome = await Record.ExceptionAsync(() => call.WaitAsync(TestTimeouts.Default));
        Assert.True(
            call.IsCompleted && outcome is not TimeoutException,
            $"the request queued, unsent, to a peer whose kept channel was awaited as the node stopped: completed={call.IsCompleted}, {outcome?.GetType().Name}: {outcome?.Message}");
    }

    // A non-idempotent request queued (not waiting for room) for a hand-driven provider that stopped reading, behind
    // 16 MB of messages; a real backup provider answers x * 10.
    private async Task<(Task<int> Call, DnsEndPoint Address, string ProviderId, HandDrivenChannel OldRun)> RequestQueuedBehindStalledProvider()
    {
        var client = await Start(
            "client",
            messaging: new MessagingOptions { ServiceBalancer = new PreferNode("hand") }, // the hand-driven provider first
            // The old run reads nothing for a while; a request may be queued behind 16 MB without waiting for room.
            peers: new PeerOptions { LivenessTimeout = TimeSpan.FromMinutes(1), BackpressureBytes = 32 * 1024 * 1024 });
        var backup = await Start("backup");
        await backup.AddService<int, int>("work", (x, _, _) => new ValueTask<int>(x * 10)).Ready;
        await WaitConnected(client, backup);

        var providerId = "hand-" + Guid.NewGuid().ToString("N");
        var address = new DnsEndPoint(client.Self.Host, client.Self.Port);
        var oldRun = await HandDrivenChannel.DialAsync(address);
        await oldRun.HandshakeAsync(providerId, incarnation: "first-run");
        await oldRun.WriteAsync(new Envelope.Interest(1, ["stuck"], ["work"]));
        await WaitForProviders(client, "work", 2);

        // The old run stops reading: what the client queues for it stays queued (below the backpressure threshold, so a
        // request is queued at once rather than waiting for room).
        var payload = new byte[64 * 1024];
        while (Queue(client, providerId).QueuedBytes < 16 * 1024 * 1024)
            await client.PublishAsync("stuck", payload).WithTimeout();
        long sent = -1;
        await AwaitConditionAsync(
            () =>
            {
                var now = Queue(client, providerId).Stats.BytesSent;
                var stalled = now == sent;
                sent = now;
                return stalled && Queue(client, providerId).QueuedBytes > 0;
            },
            TestTimeouts.Default,
            interval: TimeSpan.FromMilliseconds(200),
            message: "the client's channel to the old run to stall");
        var before = Queue(client, providerId).QueuedBytes;

        var call = client.RequestAsync<int, int>("work", 3, new RequestOptions { Timeout = TestTimeouts.Long });
        await AwaitConditionAsync(
            () => Queue(client, providerId) is { WaitingSenders: 0 } peer && peer.QueuedBytes > before,
            TestTimeouts.Default,
            message: "the request to be queued behind the stalled messages");
        Assert.False(call.IsCompleted);
        return (call, address, providerId, oldRun);
    }

    private static async Task AssertAnsweredByBackup(Task<int> call, string what)
    {
        var outcome = await Record.ExceptionAsync(async () => Assert.Equal(30, await call.WithTimeout()));
        Assert.True(outcome is null, $"the request, {what}, ended with {outcome?.GetType().Name}: {outcome?.Message}");
    }

    private static PeerInfo Queue(MeshNode node, string peerId) => node.DescribePeers().Single(peer => peer.NodeId == peerId);
}
