namespace MeshActors.Actors.Tests;

using MeshActors.TestKit;

/// <summary>Kernel behaviour beyond supervision basics: the event stream, the backoff supervisor's decider, async handlers across a restart.</summary>
public sealed class KernelCornerSpec(ITestOutputHelper output) : TestKit(output)
{
    [Fact]
    public void An_actor_subscribed_to_an_event_type_and_to_its_base_type_must_receive_each_event_once()
    {
        // Akka.NET's EventBus gathers the subscribers of an event's type and base types into a set ("a distinct list
        // of subscribers for the given event type"): one delivery per subscriber, however many of its channels match.
        var probe = CreateTestProbe();
        Assert.True(Sys.EventStream.Subscribe<Animal>(probe.Ref));
        Sys.EventStream.Subscribe<Dog>(probe.Ref);

        Sys.EventStream.Publish(new Dog("rex"));
        Sys.EventStream.Publish(new Cat("tom"));

        probe.ExpectMsg(new Dog("rex"));
        probe.ExpectMsg(new Cat("tom")); // the second copy of the Dog arrives first
    }

    [Fact]
    public void A_backoff_supervisor_OnStop_whose_decider_says_Stop_must_stop_with_its_child_not_restart_it()
    {
        // BackoffOptions.Decider: "Stop stops the child and the supervisor with it".
        var supervisor = Sys.ActorOf(BackoffSupervisor.Props(
            BackoffOptions.OnStop(Props.Create(() => new BackoffChild(TestActor)), "child", TimeSpan.FromMilliseconds(40), TimeSpan.FromSeconds(1), 0.0)
                with { Decider = _ => Directive.Stop }));
        Watch(supervisor);
        ExpectMsg("started");

        supervisor.Tell("fail");

        ExpectTerminated(supervisor); // gets "started": the child was restarted with backoff
    }

    [Fact]
    public void The_code_after_an_await_of_an_instance_being_restarted_must_not_run_once_its_PostStop_has_run()
    {
        // ActorCell.AbandonPendingAsync: "After a failure or a restart: late continuations and completions of the old
        // handler are dropped." An AllForOne restart reaching an actor in a ReceiveAsync handler runs PreRestart (and
        // PostStop in it), then waits for the children it stops: meanwhile the old handler went on.
        var awaited = new TaskCompletionSource(); // continuations inline: the await's continuation is posted at SetResult
        var childMayStop = new TaskCompletionSource();
        var parent = Sys.ActorOf(Props.Create(() => new Supervisor())
            .WithSupervisorStrategy(new AllForOneStrategy(_ => Directive.Restart)));
        parent.Tell(Props.Create(() => new AwaitsWithASlowChild(TestActor, awaited.Task, childMayStop.Task)));
        var awaiting = ExpectMsg<IActorRef>();
        ExpectMsg("prestart");
        parent.Tell(Props.Create(() => new FailingSibling()));
        var sibling = ExpectMsg<IActorRef>();

        try
        {
            awaiting.Tell("await");
            ExpectMsg("awaiting");

            sibling.Tell("throw");
            Assert.Equal(["child stopping", "poststop"], ReceiveN(2).Cast<string>().Order());

            awaited.SetResult(); // the old instance has run PostStop and waits for its child
        }
        finally
        {
            childMayStop.TrySetResult();
        }

        ExpectMsg("prestart"); // gets "continued after the await" from the stopped instance first
    }

    private abstract record Animal(string Name);

    private sealed record Dog(string Name) : Animal(Name);

    private sealed record Cat(string Name) : Animal(Name);

    private sealed class BackoffChild : ReceiveActor
    {
        private readonly IActorRef _probe;

        public BackoffChild(IActorRef probe)
        {
            _probe = probe;
            Receive<string>(s => s == "fail", _ => throw new InvalidOperationException("child fails"));
        }

        protected override void PreStart() => _probe.Tell("started");
    }

    private sealed class Supervisor : ReceiveActor
    {
        public Supervisor() => Receive<Props>(props => Sender.Tell(Context.ActorOf(props)));
    }

    private sealed class AwaitsWithASlowChild : ReceiveActor
    {
        private readonly IActorRef _probe;

        public AwaitsWithASlowChild(IActorRef probe, Task awaited, Task childMayStop)
        {
            _probe = probe;
            Context.ActorOf(Props.Create(() => new SlowToStop(probe, childMayStop)), "slow");
            ReceiveAsync<string>(s => s == "await", async _ =>
            {
                probe.Tell("awaiting");
                await awaited;
                probe.Tell("continued after the await");
            });
        }

        protected override void PreStart() => _probe.Tell("prestart");

        protected override void PostStop() => _probe.Tell("poststop");
    }

    private sealed class FailingSibling : ReceiveActor
    {
        public FailingSibling() => Receive<string>(s => s == "throw", _ => throw new InvalidOperationException("boom"));
    }

    private sealed class SlowToStop(IActorRef probe, Task mayStop) : ReceiveActor
    {
        protected override void PostStop()
        {
            probe.Tell("child stopping");
            mayStop.Wait();
        }
    }
}
