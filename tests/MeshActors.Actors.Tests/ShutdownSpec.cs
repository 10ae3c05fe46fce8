using System.Collections.Concurrent;

namespace MeshActors.Actors.Tests;

using MeshActors.TestKit;

public sealed class ShutdownSpec(ITestOutputHelper output) : TestKit(output)
{
    [Fact]
    public async Task Terminate_must_stop_children_before_parents_and_user_actors_before_system_actors()
    {
        var stopped = new ConcurrentQueue<string>();
        var top = Sys.ActorOf(Props.Create(() => new Node(stopped, 3)), "top");
        var infrastructure = Sys.SystemActorOf(Props.Create(() => new Node(stopped, 2)), "infrastructure");
        Assert.Equal(3, await top.Ask<int>("depth"));
        Assert.Equal(2, await infrastructure.Ask<int>("depth"));

        await Sys.Terminate().WaitAsync(Dilated(TimeSpan.FromSeconds(5)));

        Assert.Equal(
            ["/user/top/n/n", "/user/top/n", "/user/top", "/system/infrastructure/n", "/system/infrastructure"],
            stopped);
    }

    [Fact]
    public async Task Terminate_must_run_every_PostStop_before_WhenTerminated_completes_and_be_idempotent()
    {
        var stopped = new ConcurrentQueue<string>();
        for (var i = 0; i < 50; i++)
        {
            Sys.ActorOf(Props.Create(() => new Node(stopped, 2)));
        }

        var first = Sys.Terminate();
        var second = Sys.Terminate();
        await first.WaitAsync(Dilated(TimeSpan.FromSeconds(5)));

        Assert.Same(first, second);
        Assert.Equal(100, stopped.Count);
    }

    [Fact]
    public async Task Terminate_must_complete_even_when_a_PostStop_throws()
    {
        Sys.ActorOf(Props.Create(() => new ThrowsOnStop()));

        await Sys.Terminate().WaitAsync(Dilated(TimeSpan.FromSeconds(5)));
    }

    private sealed class Node : ReceiveActor
    {
        private readonly ConcurrentQueue<string> _stopped;

        public Node(ConcurrentQueue<string> stopped, int depth)
        {
            _stopped = stopped;
            var child = depth > 1 ? Context.ActorOf(Props.Create(() => new Node(stopped, depth - 1)), "n") : null;
            ReceiveAsync<string>(async _ => Sender.Tell(child is null ? 1 : 1 + await child.Ask<int>("depth")));
        }

        protected override void PostStop() => _stopped.Enqueue(Self.Path.ToStringWithoutAddress());
    }

    private sealed class ThrowsOnStop : ReceiveActor
    {
        protected override void PostStop() => throw new InvalidOperationException("PostStop fails");
    }
}
