namespace MeshActors.Actors.Tests;

using MeshActors.TestKit;

public sealed class LifecycleSpec(ITestOutputHelper output) : TestKit(output)
{
    [Fact]
    public void PreStart_must_run_before_the_first_message_and_PostStop_after_the_last()
    {
        var actor = Sys.ActorOf(Props.Create(() => new TestActors.LifecycleReporter(TestActor, "")));

        actor.Tell("hello");
        ExpectMsg("prestart");
        Sys.Stop(actor);

        ExpectMsg("poststop");
    }

    [Fact]
    public void PoisonPill_must_stop_the_actor_after_the_messages_queued_before_it()
    {
        var actor = Sys.ActorOf(Props.Create(() => new TestActors.Relay(TestActor)));
        Watch(actor);

        actor.Tell("one");
        actor.Tell("two");
        actor.Tell(PoisonPill.Instance);
        actor.Tell("after");

        ExpectMsg("one");
        ExpectMsg("two");
        ExpectTerminated(actor);
    }

    [Fact]
    public void Kill_must_fail_the_actor_with_ActorKilledException_which_stops_it_by_default()
    {
        var actor = Sys.ActorOf(Props.Create(() => new TestActors.LifecycleReporter(TestActor, "")));
        ExpectMsg("prestart");
        Watch(actor);

        actor.Tell(Kill.Instance);

        ExpectMsg("poststop");
        ExpectTerminated(actor);
    }

    [Fact]
    public void Context_Stop_Self_must_finish_the_current_message_then_stop()
    {
        var actor = Sys.ActorOf(Props.Create(() => new StopsItself(TestActor)));
        Watch(actor);

        actor.Tell("stop");
        actor.Tell("never processed");

        ExpectMsg("still running after Stop(Self)");
        ExpectTerminated(actor);
    }

    [Fact]
    public async Task GracefulStop_must_complete_with_true_once_the_actor_has_stopped()
    {
        var actor = Sys.ActorOf(Props.Create(() => new TestActors.LifecycleReporter(TestActor, "")));
        ExpectMsg("prestart");

        Assert.True(await actor.GracefulStop(Dilated(TimeSpan.FromSeconds(3))));

        ExpectMsg("poststop");
        Assert.True(await actor.GracefulStop(TimeSpan.FromSeconds(1))); // already stopped
    }

    [Fact]
    public async Task GracefulStop_must_complete_with_false_when_the_actor_does_not_stop_in_time()
    {
        var gate = new TaskCompletionSource();
        var busy = Sys.ActorOf(Props.Create(() => new Busy()));
        busy.Tell(gate.Task);

        Assert.False(await busy.GracefulStop(TimeSpan.FromMilliseconds(100)));

        gate.SetResult();
        Watch(busy);
        ExpectTerminated(busy); // the PoisonPill still arrives once the actor is free
    }

    [Fact]
    public async Task GracefulStop_with_a_timeout_beyond_the_timer_limit_must_stop_the_actor_instead_of_throwing()
    {
        // A .NET timer refuses more than about 49.7 days: GracefulStop threw ArgumentOutOfRangeException.
        var actor = Sys.ActorOf(Props.Create<TestActors.Echo>());

        Assert.True(await actor.GracefulStop(TimeSpan.FromDays(60)));
    }

    [Fact]
    public void An_exception_in_PostStop_must_be_logged_and_not_prevent_termination()
    {
        var actor = Sys.ActorOf(Props.Create(() => new ThrowsInPostStop()));
        Watch(actor);

        Sys.Stop(actor);

        ExpectTerminated(actor);
    }

    private sealed class StopsItself : ReceiveActor
    {
        public StopsItself(IActorRef probe) => Receive<string>(s => s == "stop", _ =>
        {
            Context.Stop(Self);
            probe.Tell("still running after Stop(Self)");
        });
    }

    private sealed class Busy : ReceiveActor
    {
        public Busy() => Receive<Task>(gate => gate.Wait());
    }

    private sealed class ThrowsInPostStop : ReceiveActor
    {
        protected override void PostStop() => throw new InvalidOperationException("PostStop fails");
    }
}
