namespace MeshActors.Actors.Tests;

using MeshActors.TestKit;

public sealed class TimersSpec(ITestOutputHelper output) : TestKit(output)
{
    [Fact]
    public void A_single_timer_must_deliver_its_message_once()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Timed(TestActor)));

        actor.Tell(new Single("tick", TimeSpan.FromMilliseconds(20)));

        ExpectMsg("tick");
        ExpectNoMsg(TimeSpan.FromMilliseconds(150));
        actor.Tell("active?");
        ExpectMsg(false);
    }

    [Fact]
    public void A_periodic_timer_must_repeat_until_cancelled()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Timed(TestActor)));

        actor.Tell(new Periodic("beat", TimeSpan.FromMilliseconds(10)));
        ExpectMsg("beat");
        ExpectMsg("beat");
        ExpectMsg("beat");
        actor.Tell("active?");
        FishForMessage<bool>(active => active);
        actor.Tell("cancel");
        FishForMessage<string>(s => s == "cancelled");

        ExpectNoMsg(TimeSpan.FromMilliseconds(150));
    }

    [Fact]
    public void Starting_a_timer_with_a_key_in_use_must_replace_it()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Timed(TestActor)));

        actor.Tell(new Single("first", TimeSpan.FromMilliseconds(100)));
        actor.Tell(new Single("second", TimeSpan.FromMilliseconds(10)));

        ExpectMsg("second");
        ExpectNoMsg(TimeSpan.FromMilliseconds(250));
    }

    [Fact]
    public void Timers_must_be_cancelled_when_the_actor_stops()
    {
        var deadLetters = CreateTestProbe();
        Sys.EventStream.Subscribe<DeadLetter>(deadLetters.Ref);
        var actor = Sys.ActorOf(Props.Create(() => new Timed(TestActor)));
        actor.Tell(new Periodic("beat", TimeSpan.FromMilliseconds(10)));
        ExpectMsg("beat");
        Watch(actor);

        Sys.Stop(actor);

        FishForMessage<Terminated>(_ => true);
        ExpectNoMsg(TimeSpan.FromMilliseconds(150));
        deadLetters.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public void Timers_must_be_cancelled_when_the_actor_restarts()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Timed(TestActor)));
        actor.Tell(new Single("before restart", TimeSpan.FromMilliseconds(150)));

        actor.Tell("throw");
        ExpectMsg("restarted");

        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void A_timer_started_in_PreRestart_must_not_tick_into_the_new_instance()
    {
        // Timers were cancelled before PreRestart only: one it started ticked into the new instance, which could not
        // see nor cancel it.
        var actor = Sys.ActorOf(Props.Create(() => new StartsTimerInPreRestart(TestActor)));

        actor.Tell("throw");
        ExpectMsg("restarted");
        actor.Tell("active?");

        ExpectMsg(false);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void A_timer_beyond_the_timer_limit_must_be_accepted_and_stay_active()
    {
        // A .NET timer refuses more than about 49.7 days: starting one threw ArgumentOutOfRangeException in the actor.
        var actor = Sys.ActorOf(Props.Create(() => new Timed(TestActor)));

        actor.Tell(new Single("in sixty days", TimeSpan.FromDays(60)));
        actor.Tell("active?");

        ExpectMsg(true);
        actor.Tell(new Periodic("every sixty days", TimeSpan.FromDays(60)));
        actor.Tell("active?");
        ExpectMsg(true);
    }

    [Fact]
    public void Timers_must_be_usable_from_the_constructor()
    {
        Sys.ActorOf(Props.Create(() => new StartsTimerInConstructor(TestActor)));

        ExpectMsg("from constructor");
    }

    [Fact]
    public void A_periodic_timer_without_an_interval_must_be_refused()
    {
        // A .NET timer with a period of 0 fires once, and the timer would then look active for good.
        Sys.ActorOf(Props.Create(() => new ZeroInterval(TestActor)));

        ExpectMsg<ArgumentOutOfRangeException>();
    }

    private sealed record Single(string Message, TimeSpan Delay);

    private sealed record Periodic(string Message, TimeSpan Interval);

    private sealed class Timed : ReceiveActor, IWithTimers
    {
        private readonly IActorRef _probe;

        public Timed(IActorRef probe)
        {
            _probe = probe;
            Receive<Single>(s => Timers.StartSingleTimer("key", s.Message, s.Delay));
            Receive<Periodic>(p => Timers.StartPeriodicTimer("key", p.Message, p.Interval));
            Receive<string>(s => s == "active?", _ => probe.Tell(Timers.IsTimerActive("key")));
            Receive<string>(s => s == "cancel", _ =>
            {
                Timers.Cancel("key");
                probe.Tell("cancelled");
            });
            Receive<string>(s => s == "throw", _ => throw new InvalidOperationException("restart me"));
            Receive<string>(s => probe.Tell(s));
        }

        public ITimerScheduler Timers { get; set; } = null!;

        protected override void PostRestart(Exception reason) => _probe.Tell("restarted");
    }

    private sealed class StartsTimerInPreRestart : ReceiveActor, IWithTimers
    {
        private readonly IActorRef _probe;

        public StartsTimerInPreRestart(IActorRef probe)
        {
            _probe = probe;
            Receive<string>(s => s == "throw", _ => throw new InvalidOperationException("restart me"));
            Receive<string>(s => s == "active?", _ => probe.Tell(Timers.IsTimerActive("key")));
            Receive<string>(s => probe.Tell(s));
        }

        public ITimerScheduler Timers { get; set; } = null!;

        protected override void PreRestart(Exception reason, object? message)
        {
            Timers.StartPeriodicTimer("key", "tick from the old instance", TimeSpan.FromMilliseconds(20));
            base.PreRestart(reason, message);
        }

        protected override void PostRestart(Exception reason) => _probe.Tell("restarted");
    }

    private sealed class StartsTimerInConstructor : ReceiveActor, IWithTimers
    {
        public StartsTimerInConstructor(IActorRef probe)
        {
            Timers.StartSingleTimer("k", "from constructor", TimeSpan.FromMilliseconds(1));
            Receive<string>(s => probe.Tell(s));
        }

        public ITimerScheduler Timers { get; set; } = null!;
    }

    private sealed class ZeroInterval : ReceiveActor, IWithTimers
    {
        public ZeroInterval(IActorRef probe)
        {
            try
            {
                Timers.StartPeriodicTimer("key", "tick", TimeSpan.Zero);
            }
            catch (ArgumentOutOfRangeException refused)
            {
                probe.Tell(refused);
            }
        }

        public ITimerScheduler Timers { get; set; } = null!;
    }
}
