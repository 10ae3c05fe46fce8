using System.Collections.Concurrent;
using MeshActors.Actors;
using MeshActors.Messaging;
using MeshActors.Protocol;
using MeshActors.Tests.Mesh;
using Xunit.Abstractions;

namespace MeshActors.Tests.Messaging;

using MeshActors.TestKit;

/// <summary>Services between real nodes (loopback HTTP/2, local registry): balancing with one slow provider among three, and when a caller may try elsewhere.</summary>
public sealed class ServiceFairnessAndRerunSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    [Fact]
    public async Task Least_outstanding_must_share_requests_evenly_among_the_idle_providers_when_one_of_three_is_slow()
    {
        var client = await Start("client", messaging: new MessagingOptions { ServiceBalancer = LoadBalancers.LeastOutstanding });
        var slow = await Start("slow");
        var p2 = await Start("p2");
        var p3 = await Start("p3");
        await WaitConnected(client, slow, p2, p3);
        var release = new TaskCompletionSource<string>();
        await slow.AddService<int, string>("id", async (_, _, _) => await release.Task).Ready;
        await p2.AddService<int, string>("id", (_, _, _) => new ValueTask<string>("p2")).Ready;
        await p3.AddService<int, string>("id", (_, _, _) => new ValueTask<string>("p3")).Ready;
        await WaitForProviders(client, "id", 3);

        // The slow provider holds one request, unanswered: it has 1 outstanding, the two others 0.
        var pinned = new List<Task<string>>();
        while (pinned.Count == 0 || Provider(client, "id", slow.Id).OutstandingRequests == 0)
            pinned.Add(client.RequestAsync<int, string>("id", 0, new RequestOptions { Timeout = TestTimeouts.Long }));
        await AwaitConditionAsync(
            () => Provider(client, "id", p2.Id).OutstandingRequests == 0 && Provider(client, "id", p3.Id).OutstandingRequests == 0,
            TestTimeouts.Default, message: "the idle providers to have answered");

        var answers = new List<string>();
        for (var i = 0; i < 300; i++)
            answers.Add(await client.RequestAsync<int, string>("id", i).WithTimeout());

        var counts = answers.GroupBy(a => a).ToDictionary(g => g.Key, g => g.Count());
        Output!.WriteLine($"p2: {counts.GetValueOrDefault("p2")}, p3: {counts.GetValueOrDefault("p3")}");
        release.SetResult("slow");
        await Task.WhenAll(pinned).WithTimeout();

        // docs/messaging.md and LoadBalancers.LeastOutstanding: fewest unanswered, then fewest bytes queued; ties rotate.
        // The two idle providers tie every time: each must get about half, not one of them two thirds.
        Assert.Equal(["p2", "p3"], counts.Keys.Order());
        Assert.All(counts.Values, count => Assert.InRange(count, 120, 180));
    }

    [Fact]
    public async Task A_request_a_handler_actor_took_must_not_run_again_on_another_provider_when_its_follow_up_to_itself_is_undelivered()
    {
        // The client sends to "first" whenever it is a provider, so that the request runs there before anywhere else.
        var client = await Start("client", messaging: new MessagingOptions { ServiceBalancer = new PreferNode("first") });
        var first = await Start("first", system: Sys);
        var second = await Start("second");
        await WaitConnected(client, first, second);

        // A common two-step handler actor: it does its work (here: charges), then confirms in a message to itself that
        // carries the requester as its sender. It is stopped before it reads that message (here it stops itself).
        var charged = CreateTestProbe();
        var handler = Sys.ActorOf(Props.Create(() => new TwoStepCharger(charged.Ref)));
        await first.AddService("charge", handler).Ready;
        var ranOnSecond = new ConcurrentQueue<int>();
        await second.AddService<int, string>("charge", (amount, _, _) =>
        {
            ranOnSecond.Enqueue(amount);
            return new ValueTask<string>("charged on second");
        }).Ready;
        await WaitForProviders(client, "charge", 2);

        // Not idempotent: it must run at most once.
        var call = client.RequestAsync<int, string>("charge", 10, new RequestOptions { Timeout = TestTimeouts.Scaled(TimeSpan.FromSeconds(3)) });

        await charged.ExpectMsgAsync(10); // the handler actor on "first" took it and ran it
        var outcome = await Record.ExceptionAsync(async () => Output!.WriteLine($"answered: {await call.WithTimeout()}"));
        Output!.WriteLine($"outcome: {outcome?.GetType().Name} {outcome?.Message}; ran on second: [{string.Join(", ", ranOnSecond)}]");

        // docs/messaging.md: only a request the provider provably did not run (the handler actor never took it) is
        // answered unavailable and taken to another provider; this one ran, so it must not run a second time.
        Assert.Empty(ranOnSecond);
        Assert.False(outcome is RemoteServiceException { ErrorCode: ErrorCodes.Unavailable }, "a request the handler actor took was answered unavailable");
    }

    [Fact]
    public async Task A_remote_handlers_token_must_fire_when_the_requests_timeout_ms_has_passed_though_no_cancel_comes()
    {
        // A v1 requester that gives up at its timeout_ms without sending cancel (cancel is optional, protocol.md 5.6):
        // its req arrives over a channel with timeout_ms 300, and nothing follows it.
        var requester = await MessagingNode.StartAsync("requester", Output!, Sys);
        var provider = await MessagingNode.StartAsync("provider", Output!, Sys);
        var toProvider = LoopbackPeer.Connect(requester, provider);
        var started = new TaskCompletionSource();
        var cancelled = new TaskCompletionSource();
        await provider.Messaging.AddService<int, int>("poll", async (_, _, ct) =>
        {
            ct.Register(() => cancelled.TrySetResult());
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct); // a long poll: it answers when it has news, or gives up with its token
            return 0;
        }).Ready;

        toProvider.TrySend(new Envelope.Req(1, "poll", "1"u8.ToArray()) { Timeout = TimeSpan.FromMilliseconds(300) });
        await started.Task.WithTimeout();

        // ServiceRequest.CancellationToken / docs/messaging.md: the handler's token fires when the requester cancels,
        // gives up (its timeout passed) or disconnects. The provider knows the deadline: it travels as timeout_ms.
        var fired = await Record.ExceptionAsync(() => cancelled.Task.WaitAsync(TestTimeouts.Scaled(TimeSpan.FromSeconds(5))));
        Output!.WriteLine($"in flight at the provider: {provider.Messaging.Inbound.Count}; token fired: {fired is null}");
        Assert.Null(fired);
        await AwaitConditionAsync(() => provider.Messaging.Inbound.Count == 0, TestTimeouts.Default, message: "the provider to let the request go");
    }

    private static RouteCandidate Provider(MeshNode node, string service, string id) =>
        node.MessagingLayer.Routes.Current.Service(service)!.Providers.Single(p => p.NodeId == id);

    /// <summary>Charges (tells <c>charged</c>), then sends itself the confirmation with the requester as sender, and stops before it reads it.</summary>
    private sealed class TwoStepCharger : ReceiveActor
    {
        public TwoStepCharger(IActorRef charged)
        {
            Receive<ServiceRequest>(request =>
            {
                var amount = request.Deserialize<int>();
                charged.Tell(amount);
                Self.Tell(new Confirm(amount), Sender);
                Context.Stop(Self);
            });
            Receive<Confirm>(confirm => Sender.Tell($"charged {confirm.Amount} on first"));
        }

        private sealed record Confirm(int Amount);
    }
}
