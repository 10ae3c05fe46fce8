namespace MeshActors.Actors.Tests;

using MeshActors.TestKit;

public sealed class SupervisionSpec(ITestOutputHelper output) : TestKit(output)
{
    [Fact]
    public void Resume_must_keep_the_actor_and_its_state()
    {
        var child = SpawnUnder(new OneForOneStrategy(_ => Directive.Resume), Props.Create<TestActors.Counter>());
        child.Tell("a");
        ExpectMsg("a");

        child.Tell("throw");
        child.Tell("b");

        ExpectMsg("b");
        child.Tell("get");
        ExpectMsg(2); // the count survived the failure
    }

    [Fact]
    public void Restart_must_replace_the_instance_and_run_the_restart_hooks_in_order()
    {
        var child = SpawnUnder(
            new OneForOneStrategy(_ => Directive.Restart),
            Props.Create(() => new FailingReporter(TestActor)));
        ExpectMsg("prestart");

        child.Tell("throw");

        ExpectMsg("prerestart:throw");   // on the failed instance, with the failing message
        ExpectMsg("poststop");           // the default PreRestart calls PostStop
        ExpectMsg("postrestart:boom");   // on the new instance
        ExpectMsg("prestart");           // the default PostRestart calls PreStart
    }

    [Fact]
    public void Restart_must_keep_the_mailbox_but_drop_the_failing_message()
    {
        var gate = new TaskCompletionSource();
        var child = SpawnUnder(new OneForOneStrategy(_ => Directive.Restart), Props.Create(() => new GatedCounter()));

        child.Tell(gate.Task);     // blocks the actor so that the next messages queue up behind the failure
        child.Tell("throw");
        child.Tell("a");
        child.Tell("b");
        gate.SetResult();

        ExpectMsg("a");
        ExpectMsg("b");
        child.Tell("get");
        ExpectMsg(2); // a fresh instance counted a and b only
    }

    [Fact]
    public void Stop_must_stop_the_failing_child()
    {
        var child = SpawnUnder(new OneForOneStrategy(_ => Directive.Stop), Props.Create<TestActors.Counter>());
        Watch(child);

        child.Tell("throw");

        ExpectTerminated(child);
    }

    [Fact]
    public void Escalate_must_let_the_grandparent_decide_for_the_parent()
    {
        // Grandparent restarts its child (the parent) on escalation; the parent escalates its child's failure.
        var parentProps = Props.Create(() => new Supervisor(TestActor))
            .WithSupervisorStrategy(new OneForOneStrategy(_ => Directive.Escalate));
        var parent = SpawnUnder(new OneForOneStrategy(_ => Directive.Restart), parentProps);
        parent.Tell(Props.Create<TestActors.Counter>());
        var child = ExpectMsg<IActorRef>();
        Watch(child);

        child.Tell("throw");

        // The parent's default PreRestart stops its children; the restart completes once they are gone.
        var events = ReceiveN(2);
        Assert.Contains("supervisor restarted", events);
        Assert.Contains(new Terminated(child), events);
    }

    [Fact]
    public void Escalate_then_Resume_must_resume_the_child_that_failed()
    {
        var parentProps = Props.Create(() => new Supervisor(TestActor))
            .WithSupervisorStrategy(new OneForOneStrategy(_ => Directive.Escalate));
        var parent = SpawnUnder(new OneForOneStrategy(_ => Directive.Resume), parentProps);
        parent.Tell(Props.Create<TestActors.Counter>());
        var child = ExpectMsg<IActorRef>();

        child.Tell("one");
        child.Tell("throw");
        child.Tell("two");

        ExpectMsg("one");
        ExpectMsg("two");
        child.Tell("get");
        ExpectMsg(2);
    }

    [Fact]
    public void AllForOne_must_restart_every_sibling_when_one_fails()
    {
        var parent = Sys.ActorOf(Props.Create(() => new Supervisor(TestActor))
            .WithSupervisorStrategy(new AllForOneStrategy(_ => Directive.Restart)));
        parent.Tell(Props.Create(() => new FailingReporter(TestActor, "first-")));
        var first = ExpectMsg<IActorRef>();
        ExpectMsg("first-prestart");
        parent.Tell(Props.Create(() => new FailingReporter(TestActor, "second-")));
        ExpectMsg<IActorRef>();
        ExpectMsg("second-prestart");

        first.Tell("throw");

        var restarts = ReceiveN(8).Cast<string>().Where(s => s.Contains("postrestart")).Order().ToList();
        Assert.Equal(["first-postrestart:boom", "second-postrestart:boom"], restarts);
    }

    [Fact]
    public void AllForOne_Stop_must_stop_every_sibling()
    {
        var parent = Sys.ActorOf(Props.Create(() => new Supervisor(TestActor))
            .WithSupervisorStrategy(new AllForOneStrategy(_ => Directive.Stop)));
        parent.Tell(Props.Create<TestActors.Counter>());
        var first = Watch(ExpectMsg<IActorRef>());
        parent.Tell(Props.Create<TestActors.Counter>());
        var second = Watch(ExpectMsg<IActorRef>());

        first.Tell("throw");

        var stopped = new[] { ExpectMsg<Terminated>().ActorRef, ExpectMsg<Terminated>().ActorRef };
        Assert.Contains(first, stopped);
        Assert.Contains(second, stopped);
    }

    [Fact]
    public void A_child_must_be_stopped_once_it_exceeds_its_restarts_within_the_window()
    {
        var child = SpawnUnder(
            new OneForOneStrategy(2, TimeSpan.FromMinutes(1), _ => Directive.Restart),
            Props.Create<TestActors.Counter>());
        Watch(child);

        child.Tell("throw");
        child.Tell("throw");
        child.Tell("alive");
        ExpectMsg("alive"); // two restarts allowed
        child.Tell("throw");

        ExpectTerminated(child);
    }

    [Fact]
    public void The_default_strategy_must_restart_on_exceptions_and_stop_on_initialization_failures()
    {
        Assert.Equal(Directive.Restart, SupervisorStrategy.DefaultDecider(new InvalidOperationException()));
        Assert.Equal(Directive.Stop, SupervisorStrategy.DefaultDecider(new ActorInitializationException(null, "x")));
        Assert.Equal(Directive.Stop, SupervisorStrategy.DefaultDecider(new ActorKilledException("x")));
        Assert.Equal(Directive.Stop, SupervisorStrategy.DefaultDecider(new DeathPactException(TestActor)));

        var restarted = Sys.ActorOf(Props.Create(() => new FailingReporter(TestActor)));
        ExpectMsg("prestart");
        restarted.Tell("throw");
        FishForMessage<string>(s => s == "postrestart:boom");
        ExpectMsg("prestart");

        var failsToStart = Sys.ActorOf(Props.Create(() => new FailsInConstructor()));
        Watch(failsToStart);
        ExpectTerminated(failsToStart);
    }

    [Fact]
    public async Task A_failure_in_PreStart_must_be_an_ActorInitializationException_for_the_supervisor()
    {
        var decided = new TaskCompletionSource<Exception>();
        var child = SpawnUnder(
            new OneForOneStrategy(e =>
            {
                decided.TrySetResult(e);
                return Directive.Stop;
            }),
            Props.Create(() => new FailsInPreStart()));
        Watch(child);

        ExpectTerminated(child);
        var cause = Assert.IsType<ActorInitializationException>(await decided.Task);
        Assert.Equal("PreStart fails", cause.InnerException!.Message);
    }

    [Fact]
    public void An_actor_overriding_SupervisorStrategy_must_apply_it_to_its_children()
    {
        var parent = Sys.ActorOf(Props.Create(() => new ResumingSupervisor(TestActor)));
        parent.Tell(Props.Create<TestActors.Counter>());
        var child = ExpectMsg<IActorRef>();
        child.Tell("a");
        ExpectMsg("a");

        child.Tell("throw");
        child.Tell("get");

        ExpectMsg(1);
    }

    private IActorRef SpawnUnder(SupervisorStrategy strategy, Props childProps)
    {
        var supervisor = Sys.ActorOf(Props.Create(() => new Supervisor(TestActor)).WithSupervisorStrategy(strategy));
        supervisor.Tell(childProps);
        return ExpectMsg<IActorRef>();
    }

    [Fact]
    public void Stopping_an_actor_whose_restart_waits_for_its_children_must_not_run_PostStop_twice()
    {
        // The default PreRestart runs PostStop; the stop that came while the restart waited for the children ran it again.
        var childMayStop = new TaskCompletionSource();
        var parent = Sys.ActorOf(Props.Create(() => new ParentOfASlowChild(TestActor, childMayStop.Task)));
        ExpectMsg("child started");
        Watch(parent);

        parent.Tell("throw");
        Assert.Equal(["child stopping", "parent poststop"], ReceiveN(2).Cast<string>().Order());
        Sys.Stop(parent); // while its restart waits for the child
        childMayStop.SetResult();

        ExpectTerminated(parent);
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    private sealed class ParentOfASlowChild : ReceiveActor
    {
        private readonly IActorRef _probe;

        public ParentOfASlowChild(IActorRef probe, Task childMayStop)
        {
            _probe = probe;
            Context.ActorOf(Props.Create(() => new SlowToStop(probe, childMayStop)));
            Receive<string>(s => s == "throw", _ => throw new InvalidOperationException("boom"));
        }

        protected override void PostStop() => _probe.Tell("parent poststop");
    }

    private sealed class SlowToStop : ReceiveActor
    {
        private readonly IActorRef _probe;
        private readonly Task _mayStop;

        public SlowToStop(IActorRef probe, Task mayStop)
        {
            _probe = probe;
            _mayStop = mayStop;
        }

        protected override void PreStart() => _probe.Tell("child started");

        protected override void PostStop()
        {
            _probe.Tell("child stopping");
            _mayStop.Wait();
        }
    }

    private class Supervisor(IActorRef probe) : ReceiveActor
    {
        protected override void PostRestart(Exception reason) => probe.Tell("supervisor restarted");

        protected override void PreStart() => Become(() => Receive<Props>(props => Sender.Tell(Context.ActorOf(props))));
    }

    private sealed class ResumingSupervisor(IActorRef probe) : Supervisor(probe)
    {
        protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Resume);
    }

    private sealed class FailingReporter(IActorRef probe, string name = "") : TestActors.LifecycleReporter(probe, name)
    {
        protected override void PreStart()
        {
            base.PreStart();
            Become(() => Receive<string>(s => s == "throw", _ => throw new InvalidOperationException("boom")));
        }
    }

    private sealed class GatedCounter : ReceiveActor
    {
        private int _count;

        public GatedCounter()
        {
            Receive<Task>(gate => gate.Wait());
            Receive<string>(s => s == "throw", _ => throw new InvalidOperationException("boom"));
            Receive<string>(s => s == "get", _ => Sender.Tell(_count));
            Receive<string>(s =>
            {
                _count++;
                Sender.Tell(s);
            });
        }
    }

    private sealed class FailsInConstructor : ReceiveActor
    {
        public FailsInConstructor() => throw new InvalidOperationException("constructor fails");
    }

    private sealed class FailsInPreStart : ReceiveActor
    {
        protected override void PreStart() => throw new InvalidOperationException("PreStart fails");
    }
}
