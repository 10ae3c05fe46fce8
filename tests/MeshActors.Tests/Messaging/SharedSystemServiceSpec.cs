using MeshActors.Messaging;
using MeshActors.Protocol;
using Xunit.Abstractions;

namespace MeshActors.Tests.Messaging;

using MeshActors.TestKit;

/// <summary>
/// How a request's outcome reaches its caller (docs/messaging.md, Errors) when other nodes' messaging layers share
/// its actor system.
/// </summary>
public sealed class SharedSystemServiceSpec(ITestOutputHelper output) : TestKit(output)
{
    /// <summary>
    /// docs/messaging.md: "An actor hosting a service that never takes a request (it stopped with requests in its
    /// mailbox ...) has them answered unavailable: it never ran them, so their callers take them to another provider at
    /// once." Messaging layers may share an actor system (a TestKit's, <see cref="MessagingNode"/>; a MeshNode keeps one
    /// to itself): the request must then still be answered by the node that serves it, not by whichever node's services
    /// actor saw the dead letter first, which has no such request in flight and drops the answer.
    /// </summary>
    [Fact]
    public async Task A_local_request_a_withdrawn_service_never_took_must_fail_at_once_when_other_nodes_share_the_actor_system()
    {
        var node = await MessagingNode.StartAsync("provider", Output!, Sys);
        for (var i = 0; i < 3; i++)
            await MessagingNode.StartAsync($"bystander-{i}", Output!, Sys); // other nodes of this process, on the same system

        for (var round = 0; round < 6; round++)
        {
            using var gate = new ManualResetEventSlim();
            var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var service = node.Messaging.AddService<int, int>($"busy-{round}", (x, _, _) =>
            {
                running.TrySetResult();
                gate.Wait(TestTimeouts.Long); // holds the service actor, so that the next request waits in its mailbox
                return new ValueTask<int>(x);
            });
            await service.Ready;
            var first = node.Messaging.RequestAsync<int, int>($"busy-{round}", 1, new RequestOptions { Timeout = TestTimeouts.Long });
            await running.Task.WithTimeout();
            // Its own timeout well above "at once", well below the test's patience.
            var queued = node.Messaging.RequestAsync<int, int>($"busy-{round}", 2, new RequestOptions { Timeout = TestTimeouts.Scaled(TimeSpan.FromSeconds(5)) });

            service.Dispose(); // stops the actor once it has finished the request it is running
            await node.Messaging.AddService<int, int>($"after-{round}", (x, _, _) => new ValueTask<int>(x)).Ready; // the stop was issued
            gate.Set();

            Assert.Equal(1, await first.WithTimeout());
            var outcome = await Record.ExceptionAsync(() => queued.WithTimeout());
            Output!.WriteLine($"round {round}: {outcome?.GetType().Name}: {outcome?.Message}");
            Assert.True(
                outcome is RemoteServiceException { ErrorCode: ErrorCodes.Unavailable },
                $"round {round}: the request the withdrawn service never took ended with {outcome?.GetType().Name} ({outcome?.Message}), not with unavailable at once");
        }
    }
}
