namespace MeshActors.Actors.Tests;

using MeshActors.TestKit;

/// <summary>Restarts as Akka.NET makes them: PreRestart once per restart, children of a failed constructor stopped first, children a PreRestart kept restarted after their parent.</summary>
public sealed class RestartSpec(ITestOutputHelper output) : TestKit(output)
{
    [Fact]
    public void An_AllForOne_restart_that_reaches_a_sibling_still_waiting_for_its_children_must_not_run_its_PreRestart_again()
    {
        // Akka.NET's FaultRecreate runs PreRestart only on an actor that is not already restarting or stopping.
        var childMayStop = new TaskCompletionSource();
        var instances = new InstanceCounter();
        var parent = Sys.ActorOf(Props.Create(() => new Supervisor())
            .WithSupervisorStrategy(new AllForOneStrategy(_ => Directive.Restart)));
        parent.Tell(Props.Create(() => new ParentOfASlowChild(TestActor, childMayStop.Task, instances)));
        var first = ExpectMsg<IActorRef>();
        Assert.Equal(["child started", "prestart 1"], ReceiveN(2).Cast<string>().Order());
        parent.Tell(Props.Create(() => new FailingSibling(TestActor)));
        var second = ExpectMsg<IActorRef>();
        ExpectMsg("second-prestart");

        try
        {
            first.Tell("throw");

            // first: PreRestart (whose default runs PostStop) and its child starts stopping, slowly; second restarts.
            var firstRestart = ReceiveN(7).Cast<string>().ToList();
            Assert.Contains("prerestart 1", firstRestart);
            Assert.Contains("child stopping", firstRestart);
            Assert.Contains("second-prestart", firstRestart);

            second.Tell("throw"); // second fails while first still waits for its child: all are restarted again
            var secondRestart = ReceiveWhile<string>(idle: TimeSpan.FromMilliseconds(300));

            Assert.Contains("second-postrestart:boom", secondRestart);
            Assert.DoesNotContain("prerestart 1", secondRestart); // the same failed instance, a second time
            Assert.DoesNotContain("poststop 1", secondRestart);
        }
        finally
        {
            childMayStop.TrySetResult();
        }

        FishForMessage<string>(s => s == "prestart 2");
    }

    [Fact]
    public void Restarting_an_actor_whose_constructor_failed_must_first_stop_the_children_that_constructor_created()
    {
        // Akka.NET turns that Recreate into a Create: it stops the children, waits for them, then creates the actor.
        // Left alive, the child keeps its name, so every new instance fails to create it again: a restart loop.
        var instances = new InstanceCounter();
        var parent = Sys.ActorOf(Props.Create(() => new Supervisor())
            .WithSupervisorStrategy(new OneForOneStrategy(5, Timeout.InfiniteTimeSpan, _ => Directive.Restart)));

        parent.Tell(Props.Create(() => new CreatesAChildThenFailsOnce(TestActor, instances)));
        var actor = ExpectMsg<IActorRef>();

        ExpectMsg("started 2");
        actor.Tell("ping");
        ExpectMsg("pong");
    }

    [Fact]
    public void Restarting_a_parent_whose_PreRestart_keeps_its_children_must_restart_those_children()
    {
        // Akka.NET's FinishRecreate restarts the surviving children once the parent's new instance has run PostRestart
        // (step 6 of "What Restarting Means" in Akka's documentation).
        var parent = Sys.ActorOf(Props.Create(() => new KeepsItsChildrenOnRestart(TestActor)));
        ExpectMsg("child-prestart");

        parent.Tell("throw");

        ExpectMsg("parent restarted");
        ExpectMsg("child-prerestart:");
        ExpectMsg("child-poststop");
        ExpectMsg("child-postrestart:boom");
        ExpectMsg("child-prestart");
    }

    private sealed class CreatesAChildThenFailsOnce : ReceiveActor
    {
        private readonly IActorRef _probe;
        private readonly int _instance;

        public CreatesAChildThenFailsOnce(IActorRef probe, InstanceCounter instances)
        {
            _probe = probe;
            _instance = instances.Next();
            Context.ActorOf(Props.Create<TestActors.Echo>(), "worker");
            if (_instance == 1)
            {
                throw new InvalidOperationException("the first constructor fails after creating its child");
            }

            Receive<string>(s => s == "ping", _ => Sender.Tell("pong"));
        }

        protected override void PreStart() => _probe.Tell($"started {_instance}");
    }

    private sealed class KeepsItsChildrenOnRestart : ReceiveActor
    {
        private readonly IActorRef _probe;

        public KeepsItsChildrenOnRestart(IActorRef probe)
        {
            _probe = probe;
            Receive<string>(s => s == "throw", _ => throw new InvalidOperationException("boom"));
        }

        protected override void PreStart() => Context.ActorOf(Props.Create(() => new TestActors.LifecycleReporter(_probe, "child-")), "child");

        // The Akka idiom that keeps the children: PostStop only, and no PreStart (which would create them again).
        protected override void PreRestart(Exception reason, object? message) => PostStop();

        protected override void PostRestart(Exception reason) => _probe.Tell("parent restarted");
    }

    private sealed class InstanceCounter
    {
        private int _count;

        public int Next() => Interlocked.Increment(ref _count);
    }

    private sealed class Supervisor : ReceiveActor
    {
        public Supervisor() => Receive<Props>(props => Sender.Tell(Context.ActorOf(props)));
    }

    private sealed class ParentOfASlowChild : ReceiveActor
    {
        private readonly IActorRef _probe;
        private readonly int _instance;

        public ParentOfASlowChild(IActorRef probe, Task childMayStop, InstanceCounter instances)
        {
            _probe = probe;
            _instance = instances.Next();
            if (_instance == 1)
            {
                Context.ActorOf(Props.Create(() => new SlowToStop(probe, childMayStop)));
            }

            Receive<string>(s => s == "throw", _ => throw new InvalidOperationException("boom"));
        }

        protected override void PreStart() => _probe.Tell($"prestart {_instance}");

        protected override void PreRestart(Exception reason, object? message)
        {
            _probe.Tell($"prerestart {_instance}");
            base.PreRestart(reason, message);
        }

        protected override void PostStop() => _probe.Tell($"poststop {_instance}");
    }

    private sealed class FailingSibling : TestActors.LifecycleReporter
    {
        public FailingSibling(IActorRef probe)
            : base(probe, "second-") =>
            Receive<string>(s => s == "throw", _ => throw new InvalidOperationException("boom"));
    }

    private sealed class SlowToStop(IActorRef probe, Task mayStop) : ReceiveActor
    {
        protected override void PreStart() => probe.Tell("child started");

        protected override void PostStop()
        {
            probe.Tell("child stopping");
            mayStop.Wait();
        }
    }
}
