using System.Net;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Tests.Mesh;
using MeshActors.Tests.Peers;
using Xunit.Abstractions;
using static MeshActors.Tests.Peers.UnaryClient;

namespace MeshActors.Tests.Messaging;

using MeshActors.TestKit;

/// <summary>Service timeouts and cancellation between real nodes (loopback HTTP/2, local registry): what reaches the handler's token, and what the caller is told.</summary>
public sealed class ServiceTimeoutAndCancelSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    [Fact]
    public async Task A_handler_actors_token_must_fire_and_its_requester_get_err_timeout_when_the_requests_timeout_ms_passes()
    {
        // A v1 requester on a real HTTP/2 channel that gives up at its timeout_ms without sending cancel (cancel is
        // optional, protocol.md 5.6); the service is hosted by an actor that has not answered yet (a long poll).
        var provider = await Start("provider", system: Sys);
        var handler = CreateTestProbe();
        await provider.AddService("poll", handler.Ref).Ready;
        await using var requester = await RawPeer.OpenAsync(new DnsEndPoint(provider.Self.Host, provider.Self.Port));
        await requester.HandshakeAsync(Guid.NewGuid().ToString(), "requester");

        await requester.WriteAsync(new Envelope.Req(1, "poll", "1"u8.ToArray()) { Timeout = TimeSpan.FromMilliseconds(100) });
        var request = await handler.ExpectMsgAsync<ServiceRequest>();
        var answer = await AnswerAsync(requester, 1);

        var fired = await Record.ExceptionAsync(() => AwaitConditionAsync(
            () => request.CancellationToken.IsCancellationRequested, TestTimeouts.Scaled(TimeSpan.FromSeconds(5)), message: "the handler actor's token to fire"));
        Output!.WriteLine($"answer: {Describe(answer)} {(answer as Envelope.Err)?.ExceptionType}: {(answer as Envelope.Err)?.Message}; token fired: {fired is null}; handler failures counted: {provider.MessagingLayer.Stats.HandlerFailures}");

        // docs/messaging.md, Cancellation: the handler's token "also fires when the requester gives up (its timeout_ms
        // passed, within a quarter second, with or without a cancel: the requester is answered err timeout)";
        // ServiceRequest.CancellationToken: "Fires when the requester cancels, gives up (its timeout passed) or disconnects".
        Assert.Equal("err timeout 1", Describe(answer));
        Assert.True(fired is null, "the handler actor's token never fired");
        Assert.Equal(0, provider.MessagingLayer.Stats.HandlerFailures); // the handler did not fail: its requester gave up
    }

    [Fact]
    public async Task A_cancelled_request_must_end_with_an_OperationCanceledException_that_carries_the_callers_token()
    {
        var (client, provider) = await StartConnected("client", "provider");
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await provider.AddService<int, int>("work", async (_, _, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return 0;
        }).Ready;
        await WaitForProviders(client, "work", 1);
        using var cts = new CancellationTokenSource();
        var call = client.RequestAsync<int, int>("work", 1, new RequestOptions { Timeout = TestTimeouts.Long }, cts.Token);
        await started.Task.WithTimeout();

        await cts.CancelAsync();

        await AwaitConditionAsync(() => call.IsCompleted, TestTimeouts.Default, message: "the call to end");
        var cancelled = Assert.IsAssignableFrom<OperationCanceledException>(await Record.ExceptionAsync(() => call));
        // The .NET convention (Task.Delay, Task.WaitAsync, HttpClient, channels): cancellation by the caller's token ends
        // the call with an OperationCanceledException for that token, which callers and retry policies test with
        // `when (ex.CancellationToken == token)` to tell their own cancellation from any other.
        Assert.True(cancelled.CancellationToken == cts.Token, "the OperationCanceledException carries another token than the caller's (the call's internal deadline)");
    }

    [Fact]
    public async Task Cancelling_a_request_must_fire_the_remote_handlers_token_though_the_providers_queue_was_full_when_it_was_cancelled()
    {
        // The client's queue to the provider is small and refuses what does not fit (no waiting), so that it can be full.
        var client = await Start("client", peers: new PeerOptions { OverflowPolicy = PeerOverflowPolicy.Fail, OutboundQueueCapBytes = 256 * 1024 });
        var provider = await Start("provider", messaging: new MessagingOptions { SubscriberBacklogLimit = 10 });
        await WaitConnected(client, provider);
        var gate = new TaskCompletionSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tokenFired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await provider.Subscribe<byte[]>("stuck", async (_, _) => await gate.Task).Ready;
        await provider.AddService<int, int>("work", async (_, _, ct) =>
        {
            ct.Register(() => tokenFired.TrySetResult());
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return 0;
        }).Ready;
        await AwaitConditionAsync(() => client.HasSubscribers("stuck"), TestTimeouts.Default, message: "the client to see the subscriber");
        await WaitForProviders(client, "work", 1);
        try
        {
            using var cts = new CancellationTokenSource();
            var call = client.RequestAsync<int, int>("work", 1, new RequestOptions { Timeout = TimeSpan.FromMinutes(5) }, cts.Token);
            await started.Task.WithTimeout();

            // The provider stops reading its channel from the client (its subscriber is held back), so the client's
            // queue to it fills up and stalls; then the last bytes of room go to one message of the right size, so
            // that the queue is at its cap exactly.
            var chunk = new byte[16 * 1024];
            var sent = -1L;
            await AwaitConditionAsync(
                async () =>
                {
                    await PublishUntilFullAsync(client, chunk);
                    var toProvider = client.DescribePeers().Single(peer => peer.NodeId == provider.Id);
                    var stalled = toProvider.Stats.BytesSent == sent && toProvider.QueuedBytes > 128 * 1024;
                    sent = toProvider.Stats.BytesSent;
                    return stalled;
                },
                TestTimeouts.Long, interval: TimeSpan.FromMilliseconds(250), message: "the client's queue to the provider to fill and stall");
            await PublishUntilFullAsync(client, chunk);
            var room = 256 * 1024 - client.DescribePeers().Single(peer => peer.NodeId == provider.Id).QueuedBytes;
            Output!.WriteLine($"room left: {room} bytes");
            var dataBytes = (int)room - 64; // what an envelope counts against the cap: 64 bytes and its data (OutboundQueue.SizeOf)
            if (dataBytes > 0)
                await client.PublishAsync("stuck", dataBytes switch { 1 => (object)1, 2 => 10, _ => new string('a', dataBytes - 2) });
            Assert.True(dataBytes != 0, "exactly one cancel's worth of room was left");

            var toProvider = client.DescribePeers().Single(peer => peer.NodeId == provider.Id);
            Output!.WriteLine($"queued before the cancel: {toProvider.QueuedBytes} bytes, dropped so far: {toProvider.Stats.Dropped}");
            var droppedBefore = toProvider.Stats.Dropped;
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WithTimeout());
            toProvider = client.DescribePeers().Single(peer => peer.NodeId == provider.Id);
            Output!.WriteLine($"queued after the cancel: {toProvider.QueuedBytes} bytes, dropped: {toProvider.Stats.Dropped - droppedBefore} more");

            // The provider reads again: what the client queued reaches it.
            gate.TrySetResult();
            await AwaitConditionAsync(() => client.DescribePeers().Single(peer => peer.NodeId == provider.Id).QueuedBytes == 0, TestTimeouts.Long, message: "the client's queue to drain");

            // docs/messaging.md, Cancellation: "Cancelling the caller's token sends cancel; the remote handler's
            // CancellationToken fires", not at the request's timeout_ms five minutes later.
            var fired = await Record.ExceptionAsync(() => tokenFired.Task.WaitAsync(TestTimeouts.Scaled(TimeSpan.FromSeconds(10))));
            Output!.WriteLine($"handler's token fired: {fired is null}; requests in flight at the provider: {provider.MessagingLayer.Inbound.Count}");
            Assert.True(fired is null, "the provider's handler was never told of the cancel: it runs on until the request's timeout_ms");
        }
        finally
        {
            gate.TrySetResult();
        }
    }

    /// <summary>The node's answer to request <paramref name="id"/> on the raw channel (announcements and pings skipped).</summary>
    private static async Task<Envelope> AnswerAsync(RawPeer peer, long id)
    {
        while (await peer.ReadAsync().WithTimeout() is { } envelope)
        {
            if (envelope is Envelope.Res { Id: var res } && res == id || envelope is Envelope.Err { Id: var err } && err == id)
                return envelope;
        }

        throw new InvalidOperationException($"The channel ended before request {id} was answered.");
    }

    private static async Task PublishUntilFullAsync<T>(MeshNode node, T message)
    {
        try
        {
            while (true)
                await node.PublishAsync("stuck", message);
        }
        catch (PeerQueueFullException)
        {
            // At the cap: nothing more of this size fits.
        }
    }
}
