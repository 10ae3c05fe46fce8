using System.Collections.Concurrent;
using MeshActors.Actors;
using MeshActors.Messaging;
using MeshActors.Protocol;
using MeshActors.Tests.Mesh;
using Xunit.Abstractions;

namespace MeshActors.Tests.Messaging;

using MeshActors.TestKit;

/// <summary>Services between real nodes (loopback HTTP/2, local registry): what a provider tells its caller, and when a caller may try elsewhere.</summary>
public sealed class ServiceActorHandlerSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    [Fact]
    public async Task A_request_a_handler_actor_ran_and_failed_with_an_ActorTerminatedException_must_not_run_again_on_another_provider()
    {
        // The client sends to "first" whenever it is a provider, so that the request runs there before anywhere else.
        var client = await Start("client", messaging: new MessagingOptions { ServiceBalancer = new PreferNode("first") });
        var first = await Start("first", system: Sys);
        var second = await Start("second");
        await WaitConnected(client, first, second);

        // A common handler actor: it does its work (here: charges), then asks a dependency and pipes the outcome back
        // to the requester. The dependency has stopped, so the answer is a Status.Failure(ActorTerminatedException).
        var ledger = Sys.ActorOf(Props.Create(() => new Ledger()));
        await ledger.GracefulStop(TestTimeouts.Default);
        var charged = CreateTestProbe();
        var handler = Sys.ActorOf(Props.Create(() => new Charger(ledger, charged.Ref)));
        await first.AddService("charge", handler).Ready;
        var ranOnSecond = new ConcurrentQueue<int>();
        await second.AddService<int, string>("charge", (amount, _, _) =>
        {
            ranOnSecond.Enqueue(amount);
            return new ValueTask<string>("charged on second");
        }).Ready;
        await WaitForProviders(client, "charge", 2);

        // Not idempotent: it must run at most once.
        var call = client.RequestAsync<int, string>("charge", 10, new RequestOptions { Timeout = TestTimeouts.Default });

        await charged.ExpectMsgAsync(10); // the handler actor on "first" ran it
        var outcome = await Record.ExceptionAsync(async () => Output!.WriteLine($"answered: {await call.WithTimeout()}"));
        Output!.WriteLine($"ran on second: [{string.Join(", ", ranOnSecond)}]");

        // docs/messaging.md: a handler actor's Status.Failure reaches the caller as handler_error with the exception's type;
        // only a request the provider provably did not run is taken to another provider.
        Assert.Empty(ranOnSecond);
        var failure = Assert.IsType<RemoteServiceException>(outcome);
        Assert.Equal(ErrorCodes.HandlerError, failure.ErrorCode);
        Assert.Equal(typeof(ActorTerminatedException).FullName, failure.RemoteType);
    }

    [Fact]
    public async Task A_Request_message_for_an_empty_service_name_must_fail_at_once_with_the_ArgumentException_RequestAsync_throws()
    {
        var node = await Start("alone");

        var direct = await Record.ExceptionAsync(() => node.RequestAsync<int, int>("", 1, new RequestOptions { WaitForProvider = TestTimeouts.Long }));
        Assert.IsType<ArgumentException>(direct);

        // docs/messaging.md, From actors: a Status.Failure with the exception RequestAsync would throw.
        node.Services.Tell(new Request("", 1) { Options = new RequestOptions { WaitForProvider = TestTimeouts.Long } }, TestActor);

        var failure = await ExpectMsgAsync<Status.Failure>();
        Assert.IsType<ArgumentException>(failure.Cause);
    }

    private sealed class Ledger : ReceiveActor
    {
        public Ledger() => ReceiveAny(message => Sender.Tell(message));
    }

    /// <summary>Charges (tells <c>charged</c>), then asks the ledger to record it and pipes the ledger's answer to the requester.</summary>
    private sealed class Charger : ReceiveActor
    {
        public Charger(IActorRef ledger, IActorRef charged) => Receive<ServiceRequest>(request =>
        {
            var amount = request.Deserialize<int>();
            charged.Tell(amount);
            ledger.Ask<object>(amount, TestTimeouts.Default).PipeTo(Sender, Self, success: _ => "charged on first");
        });
    }
}
