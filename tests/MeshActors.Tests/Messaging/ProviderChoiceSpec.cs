using MeshActors.Actors;
using MeshActors.Messaging;
using MeshActors.Protocol;
using MeshActors.Tests.Mesh;
using Xunit.Abstractions;

namespace MeshActors.Tests.Messaging;

using MeshActors.TestKit;

/// <summary>Choosing a provider while counters move, and a request reaching a handler actor that has just stopped.</summary>
public sealed class ProviderChoiceSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    [Fact]
    public async Task Least_outstanding_must_always_choose_one_of_the_candidates_when_their_counters_change_while_it_chooses()
    {
        // RouteCandidate's remarks: its counters are live. Two idle providers tie; requests to the second start and end
        // on other threads (other callers of the same service) while this caller's balancer chooses.
        var candidates = new[] { new RouteCandidate("a", "p", peer: null), new RouteCandidate("b", "p", peer: null) };
        var group = new CandidateGroup("svc", candidates);
        using var stop = new CancellationTokenSource();
        var others = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                candidates[1].RequestStarted();
                candidates[1].RequestEnded();
            }
        });

        Exception? failure = null;
        var chosen = new List<int>();
        var until = Environment.TickCount64 + 5_000;
        try
        {
            while (failure is null && Environment.TickCount64 < until)
            {
                try
                {
                    var choice = LoadBalancers.LeastOutstanding.Select(group);
                    if ((uint)choice >= (uint)group.Count)
                        failure = new InvalidOperationException($"chose {choice} among {group.Count}");
                }
                catch (Exception e)
                {
                    failure = e;
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            await others.WithTimeout();
        }

        Output!.WriteLine($"failure: {failure?.GetType().Name}: {failure?.Message}");
        // ILoadBalancer.Select: the index of one candidate. A choice that throws fails the caller's RequestAsync or
        // PublishAsync (MeshMessaging.Select lets it through): under concurrent load, calls fail at random.
        Assert.Null(failure);
    }

    [Fact]
    public async Task A_request_reaching_a_stopped_handler_actor_before_its_service_is_withdrawn_must_go_to_another_provider()
    {
        var client = await Start("client", messaging: new MessagingOptions { ServiceBalancer = new PreferNode("first") });
        var first = await Start("first");
        var second = await Start("second");
        await WaitConnected(client, first, second);

        var handler = first.System.ActorOf(Props.Create(() => new Answerer("first")));
        await first.AddService("charge", handler).Ready;
        await second.AddService<int, string>("charge", (_, _, _) => new ValueTask<string>("second")).Ready;
        await AwaitConditionAsync(() => client.MessagingLayer.Routes.Current.Service("charge")?.Providers.Count == 2,
            TestTimeouts.Default, message: "two providers of charge");
        Assert.Equal("first", await client.RequestAsync<int, string>("charge", 1).WithTimeout());

        // The services actor of "first" is busy for a moment (here: encoding a Request message an actor sent it), so the
        // Terminated of the handler waits in its mailbox, and the service is still hosted, while the handler is stopped.
        using var busy = new Gate();
        first.Services.Tell(new Request("elsewhere", busy) { Options = new RequestOptions { WaitForProvider = TimeSpan.Zero } });
        await busy.Entered.WithTimeout();
        try
        {
            Assert.True(await handler.GracefulStop(TestTimeouts.Default));

            // The handler never took this request (it was stopped before it was asked): docs/messaging.md and
            // ServicesActor's own comment: a question the handler actor never took is answered unavailable, and the
            // caller takes it to another provider.
            var outcome = await Record.ExceptionAsync(async () =>
                Output!.WriteLine($"answered by {await client.RequestAsync<int, string>("charge", 2).WithTimeout()}"));
            Output!.WriteLine($"outcome: {outcome?.GetType().Name} {(outcome as RemoteServiceException)?.ErrorCode} {outcome?.Message}");
            Assert.Null(outcome);
        }
        finally
        {
            busy.Release();
        }
    }

    private sealed class Answerer : ReceiveActor
    {
        public Answerer(string name) => Receive<ServiceRequest>(_ => Sender.Tell(name));
    }

    /// <summary>A message whose serialization holds whoever encodes it until released.</summary>
    private sealed class Gate : IDisposable
    {
        private readonly ManualResetEventSlim _open = new();
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Value
        {
            get
            {
                _entered.TrySetResult();
                _open.Wait(TimeSpan.FromSeconds(30));
                return 1;
            }
        }

        [System.Text.Json.Serialization.JsonIgnore]
        public Task Entered => _entered.Task;

        public void Release() => _open.Set();

        public void Dispose() => _open.Set();
    }
}
