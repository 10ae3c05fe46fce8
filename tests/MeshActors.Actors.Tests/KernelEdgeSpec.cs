namespace MeshActors.Actors.Tests;

using MeshActors.TestKit;

/// <summary>Edges of the kernel where it parts from Akka.NET or from its own documentation.</summary>
public sealed class KernelEdgeSpec(ITestOutputHelper output) : TestKit(output)
{
    [Fact]
    public void A_periodic_timer_started_by_a_constructor_that_failed_must_not_keep_the_next_instance_from_its_receive_timeout()
    {
        // The first instance starts a fast periodic timer in its constructor, then fails there; the supervisor restarts it.
        // The next instance sets a receive timeout and starts no timer: nothing it receives should delay the timeout.
        var attempts = 0;
        SpawnUnder(
            new OneForOneStrategy(_ => Directive.Restart),
            Props.Create(() => new TimerThenFail(TestActor, ++attempts == 1)));

        ExpectMsg("constructed");
        ExpectMsg("receive timeout", TimeSpan.FromSeconds(3));
    }

    [Fact]
    public void A_second_child_escalating_while_its_parent_waits_for_a_directive_must_not_stay_suspended_after_Resume()
    {
        // The grandparent resumes whatever fails; the parent escalates whatever its children do. Children keep running
        // while their parent is failed (the kernel suspends only the failing actor), so a sibling can fail meanwhile.
        var grandparent = Sys.ActorOf(
            Props.Create(() => new Parent()).WithSupervisorStrategy(new OneForOneStrategy(_ => Directive.Resume)),
            "grandparent");
        var probe = TestActor;
        grandparent.Tell(Props.Create(() => new Parent()).WithSupervisorStrategy(new OneForOneStrategy(e =>
        {
            probe.Tell($"escalating {e.Message}");
            return Directive.Escalate;
        })));
        var parent = ExpectMsg<IActorRef>();
        parent.Tell(Props.Create<FailOnDemand>());
        var first = ExpectMsg<IActorRef>();
        parent.Tell(Props.Create<FailOnDemand>());
        var second = ExpectMsg<IActorRef>();

        // The grandparent is busy, so the parent waits for its directive while both children fail.
        var gate = new TaskCompletionSource();
        grandparent.Tell(gate.Task);
        try
        {
            ExpectMsg("grandparent busy");
            first.Tell("fail first");
            ExpectMsg("escalating first");
            second.Tell("fail second");
            ExpectMsg("escalating second");
        }
        finally
        {
            gate.SetResult(); // the grandparent now resumes the parent
        }

        first.Tell("a");
        ExpectMsg("a");      // the child whose failure the grandparent saw is resumed
        second.Tell("b");
        ExpectMsg("b");      // the other one escalated too: it must not wait for ever
    }

    [Fact]
    public void Restarting_an_actor_whose_first_constructor_failed_must_start_it_with_PreStart()
    {
        // Akka.NET turns a Recreate of an actor that was never created into a Create ("Changing Recreate into Create"):
        // the first instance that runs gets PreStart. An actor that keeps PostRestart from calling PreStart (the
        // documented Akka idiom for initializing once) would otherwise never be initialized.
        var attempts = 0;
        SpawnUnder(
            new OneForOneStrategy(_ => Directive.Restart),
            Props.Create(() => new InitializesOnce(TestActor, ++attempts == 1)));

        ExpectMsg("prestart");
    }

    private IActorRef SpawnUnder(SupervisorStrategy strategy, Props childProps)
    {
        var supervisor = Sys.ActorOf(Props.Create(() => new Parent()).WithSupervisorStrategy(strategy));
        supervisor.Tell(childProps);
        return ExpectMsg<IActorRef>();
    }

    private sealed class Parent : ReceiveActor
    {
        public Parent()
        {
            Receive<Props>(props => Sender.Tell(Context.ActorOf(props)));
            Receive<Task>(gate =>
            {
                Sender.Tell("grandparent busy");
                gate.Wait();
            });
        }
    }

    private sealed class FailOnDemand : ReceiveActor
    {
        public FailOnDemand()
        {
            ReceiveAny(message =>
            {
                if (message is string text && text.StartsWith("fail ", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException(text[5..]);
                }

                Sender.Tell(message);
            });
        }
    }

    private sealed class TimerThenFail : ReceiveActor, IWithTimers
    {
        public TimerThenFail(IActorRef probe, bool fail)
        {
            if (fail)
            {
                Timers.StartPeriodicTimer("heartbeat", "heartbeat", TimeSpan.FromMilliseconds(10));
                throw new InvalidOperationException("cannot connect yet");
            }

            Context.SetReceiveTimeout(TimeSpan.FromMilliseconds(200));
            Receive<ReceiveTimeout>(_ =>
            {
                probe.Tell("receive timeout");
                Context.SetReceiveTimeout(null);
            });
            ReceiveAny(message => probe.Tell(message));
            probe.Tell("constructed");
        }

        public ITimerScheduler Timers { get; set; } = null!;
    }

    private sealed class InitializesOnce : ReceiveActor
    {
        private readonly IActorRef _probe;

        public InitializesOnce(IActorRef probe, bool fail)
        {
            _probe = probe;
            if (fail)
            {
                throw new InvalidOperationException("not yet");
            }

            ReceiveAny(_ => { });
        }

        protected override void PreStart() => _probe.Tell("prestart");

        // Initialization runs once, in PreStart, not again after a restart (Akka's "initialization via preStart").
        protected override void PostRestart(Exception reason) => _probe.Tell("postrestart");
    }
}
