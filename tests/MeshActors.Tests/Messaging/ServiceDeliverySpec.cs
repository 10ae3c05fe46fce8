using System.Collections.Concurrent;
using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Tests.Mesh;
using MeshActors.Tests.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Messaging;

using MeshActors.TestKit;

/// <summary>Services between real nodes (loopback HTTP/2, local registry): what a caller gets when a request cannot be carried or run.</summary>
public sealed class ServiceDeliverySpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    [Fact]
    public async Task A_request_still_waiting_for_room_when_its_provider_is_lost_was_never_sent_and_must_go_to_another_provider()
    {
        var client = await Start("client");
        var doomed = await Start("doomed", messaging: new MessagingOptions { SubscriberBacklogLimit = 10 });
        var survivor = await Start("survivor");
        await WaitConnected(client, doomed, survivor);
        var gate = new TaskCompletionSource();
        await doomed.Subscribe<byte[]>("stuck", async (_, _) => await gate.Task).Ready;
        await doomed.AddService<int, string>("work", (_, _, _) => new ValueTask<string>("doomed")).Ready;
        await survivor.AddService<int, string>("work", (_, _, _) => new ValueTask<string>("survivor")).Ready;
        await AwaitConditionAsync(() => Routes(client).Topic("stuck") is not null, TestTimeouts.Default, message: "the client to see the subscriber");
        await WaitForProviders(client, "work", 2);
        try
        {
            // The doomed node stops reading its channel from the client, whose queue to it fills until senders wait for room.
            await QueueBackup.PublishUntilStalledAsync(client, doomed.Id, "stuck");

            // Round robin alternates: within two tries a request waits for room in the doomed node's queue, unsent.
            Task<string> call;
            do
            {
                call = client.RequestAsync<int, string>("work", 1, new RequestOptions { Timeout = TestTimeouts.Long });
                await AwaitConditionAsync(() => call.IsCompleted || Provider(client, "work", doomed.Id).OutstandingRequests == 1);
            }
            while (call.IsCompleted);
            Assert.True(Peer(client, doomed).WaitingSenders > 0, $"nothing waits for room ({Peer(client, doomed).QueuedBytes} bytes queued)");

            // The provider leaves, then its channel is lost: its link goes, and with it the queue the request waits on.
            await doomed.Registry.Ask<LeftMesh>(LeaveMesh.Instance).WithTimeout();
            await AwaitConditionAsync(() => client.Members.All(member => member.Id != doomed.Id), TestTimeouts.Default, message: "the client to see the provider leave");
            client.Peers.Tell(new PeerManagerActor.ResetChannels(doomed.Id));

            // docs/messaging.md: not run by the provider -> retried once on another provider, idempotent or not.
            Assert.Equal("survivor", await call.WithTimeout());
        }
        finally
        {
            gate.TrySetResult();
        }
    }

    [Theory]
    [InlineData("response")]
    [InlineData("request")]
    public async Task A_request_or_answer_above_the_peers_frame_limit_must_fail_the_call_at_once_with_frame_too_large(string tooLarge)
    {
        var small = await Start("small", protocol: new ProtocolOptions { MaxFrameSize = ProtocolOptions.SmallestMaxFrameSize });
        var large = await Start("large");
        await WaitConnected(small, large);
        await large.AddService<int, string>("inflate", (n, _, _) => new ValueTask<string>(new string('x', n))).Ready;
        await small.AddService<string, int>("measure", (s, _, _) => new ValueTask<int>(s.Length)).Ready;
        await WaitForProviders(small, "inflate", 1);
        await WaitForProviders(large, "measure", 1);
        var patient = new RequestOptions { Timeout = TestTimeouts.Long };

        // The answer would not fit the small node's frames; or the request would not. Dropped without a word, the
        // call would wait out its timeout, longer than this wait.
        Task call = tooLarge == "response"
            ? small.RequestAsync<int, string>("inflate", 100_000, patient)
            : large.RequestAsync<string, int>("measure", new string('x', 100_000), patient);
        var failure = await Assert.ThrowsAsync<RemoteServiceException>(() => call.WithTimeout());

        // docs/protocol.md 3.1: such a send fails with frame_too_large; 5.3: every req is answered exactly once.
        Assert.Equal(ErrorCodes.FrameTooLarge, failure.ErrorCode);
        Assert.Contains($"The {tooLarge} was not sent", failure.Message);
    }

    [Fact]
    public async Task A_request_a_stopped_handler_actor_never_took_must_go_to_another_provider()
    {
        var local = await Start("local", system: Sys, messaging: new MessagingOptions { ServiceBalancer = LoadBalancers.LocalFirst });
        var remote = await Start("remote");
        await WaitConnected(local, remote);
        using var gate = new ManualResetEventSlim();
        var running = new TaskCompletionSource();
        var handler = Sys.ActorOf(Props.Create(() => new BlockingHandler(gate, running)));
        await local.AddService("work", handler).Ready;
        await remote.AddService<int, string>("work", (_, _, _) => new ValueTask<string>("remote")).Ready;
        await WaitForProviders(local, "work", 2);
        var patient = new RequestOptions { Timeout = TestTimeouts.Long };
        var first = local.RequestAsync<int, string>("work", 1, patient);
        await running.Task.WithTimeout();
        var queued = local.RequestAsync<int, string>("work", 2, patient);
        // The service actor passes each request on to the handler as it comes: once it has handled a marker sent after
        // the second request, that request waits in the busy handler's mailbox.
        var marker = new object();
        var passedOn = new TaskCompletionSource();
        using (Sys.EventStream.Subscribe<UnhandledMessage>(unhandled =>
        {
            if (ReferenceEquals(unhandled.Message, marker))
                passedOn.TrySetResult();
        }))
        {
            Routes(local).Service("work")!.Local!.Tell(marker);
            await passedOn.Task.WithTimeout();
        }

        Sys.Stop(handler); // once it has answered the request it is running; the queued one it never takes
        gate.Set();

        Assert.Equal("local", await first.WithTimeout());
        // docs/messaging.md: a handler actor that stops withdraws its service; a request the provider did not run is
        // retried once on another provider, idempotent or not.
        var outcome = await Record.ExceptionAsync(async () => Assert.Equal("remote", await queued.WithTimeout()));
        Output!.WriteLine($"{outcome?.GetType().Name ?? "answered by the remote provider"} {outcome?.Message}");
        Assert.Null(outcome);
    }

    [Fact]
    public async Task A_request_that_timed_out_in_its_providers_queue_must_never_run()
    {
        // The client's queue takes far more than the provider reads while it is stuck, without making senders wait.
        var client = await Start("client", peers: new PeerOptions { BackpressureBytes = 48L * 1024 * 1024 });
        var provider = await Start("provider", messaging: new MessagingOptions { SubscriberBacklogLimit = 10 });
        await WaitConnected(client, provider);
        var gate = new TaskCompletionSource();
        await provider.Subscribe<byte[]>("stuck", async (_, _) => await gate.Task).Ready;
        var ran = new ConcurrentQueue<int>();
        await provider.AddService<int, int>("work", (n, _, _) =>
        {
            ran.Enqueue(n);
            return new ValueTask<int>(n);
        }).Ready;
        await AwaitConditionAsync(() => Routes(client).Topic("stuck") is not null, TestTimeouts.Default, message: "the client to see the subscriber");
        await WaitForProviders(client, "work", 1);
        try
        {
            // 26 MB: more than the provider's backlog, its flow-control window and the socket buffers hold.
            var payload = new byte[64 * 1024];
            for (var n = 0; n < 400; n++)
                await client.PublishAsync("stuck", payload);
            await WaitStalled(client, provider, 1024 * 1024);

            await Assert.ThrowsAsync<TimeoutException>(() =>
                client.RequestAsync<int, int>("work", 1, new RequestOptions { Timeout = TimeSpan.FromMilliseconds(200) }));
            Assert.True(QueuedBytes(client, provider) > payload.Length, "the request timed out behind messages the provider had not read");
        }
        finally
        {
            gate.TrySetResult();
        }

        // The request behind it arrives after it would have: by then the first one was run, or never will be.
        Assert.Equal(2, await client.RequestAsync<int, int>("work", 2).WithTimeout());
        Assert.Equal([2], ran);
    }

    private static RouteCandidate Provider(MeshNode node, string service, string id) => Routes(node).Service(service)!.Providers.Single(p => p.NodeId == id);

    private static long QueuedBytes(MeshNode node, MeshNode peer) => Peer(node, peer).QueuedBytes;

    private static PeerInfo Peer(MeshNode node, MeshNode peer) => node.DescribePeers().Single(info => info.NodeId == peer.Id);

    private static RoutingTable Routes(MeshNode node) => node.MessagingLayer.Routes.Current;

    /// <summary>Answers "local", holding its first request until the gate opens, so that the next one waits in its mailbox.</summary>
    private sealed class BlockingHandler : ReceiveActor
    {
        public BlockingHandler(ManualResetEventSlim gate, TaskCompletionSource running) => Receive<ServiceRequest>(_ =>
        {
            running.TrySetResult();
            gate.Wait();
            Sender.Tell("local");
        });
    }
}
