using System.Diagnostics;

namespace MeshActors.Actors.Tests;

using MeshActors.TestKit;
using MeshActors.Testing;

public sealed class ReceiveTimeoutSpec(ITestOutputHelper output) : TestKit(output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(300);

    [Fact]
    public void An_idle_actor_must_receive_a_receive_timeout_after_each_period_of_silence()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Idler(TestActor, Timeout)));

        var first = ExpectMsg<TimedOut>();
        var second = ExpectMsg<TimedOut>();

        Assert.InRange(first.IdleSinceActivity, Timeout - TestTimeouts.TimerSlack, TimeSpan.MaxValue);
        Assert.InRange(second.IdleSinceActivity, Timeout - TestTimeouts.TimerSlack, TimeSpan.MaxValue);
        actor.Tell("timeout?");
        Assert.Equal(Timeout, ExpectMsg<TimeSpan>());
    }

    [Fact]
    public void A_message_must_restart_the_period_of_silence()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Idler(TestActor, Timeout)));
        ExpectNoMsg(Timeout / 2);

        actor.Tell("touch");
        ExpectMsg("touched");

        // Had the touch not counted, the timeout would come about half a period after it.
        Assert.InRange(ExpectMsg<TimedOut>().IdleSinceActivity, Timeout - TestTimeouts.TimerSlack, TimeSpan.MaxValue);
    }

    [Fact]
    public void The_period_of_silence_must_begin_when_a_long_message_is_done()
    {
        using var release = new ManualResetEventSlim();
        var actor = Sys.ActorOf(Props.Create(() => new SlowWorker(TestActor, Timeout, release)));
        actor.Tell("work");
        ExpectMsg("working");
        ExpectNoMsg(Timeout * 2); // the message takes longer than the timeout

        release.Set();

        // Counted from the message's start, the timeout would come as soon as the message is done.
        Assert.InRange(ExpectMsg<TimedOut>().IdleSinceActivity, Timeout - TestTimeouts.TimerSlack, TimeSpan.MaxValue);
    }

    [Fact]
    public void A_message_that_does_not_influence_the_timeout_must_not_restart_it()
    {
        // Probed half way, the timeout comes half a period after the probe, a restarted one a whole period after it:
        // a long period leaves room for a loaded machine's late timers on one side and late test thread on the other.
        var timeout = TimeSpan.FromSeconds(3);
        var actor = Sys.ActorOf(Props.Create(() => new Idler(TestActor, timeout)));
        ExpectNoMsg(timeout / 2);

        actor.Tell(new Probe());
        var probed = Stopwatch.StartNew();
        ExpectMsg("probed");

        ExpectMsg<TimedOut>(timeout: timeout);
        Assert.InRange(probed.Elapsed, TimeSpan.Zero, timeout - TestTimeouts.TimerSlack);
    }

    [Fact]
    public void Timer_ticks_that_do_not_influence_the_timeout_must_not_restart_it()
    {
        Sys.ActorOf(Props.Create(() => new Ticking(TestActor, Timeout)));

        // Ticks every tenth of the period: had they counted, the timeout would never come.
        FishForMessage<ReceiveTimeout>(_ => true, Timeout * 5);
    }

    [Fact]
    public void Clearing_the_timeout_must_stop_it()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Idler(TestActor, Timeout)));
        ExpectMsg<TimedOut>();

        actor.Tell("clear");
        ExpectMsg("cleared");

        ExpectNoMsg(Timeout * 2);
    }

    [Fact]
    public void The_timeout_must_be_cleared_when_the_actor_restarts()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Idler(TestActor, Timeout, setInConstructor: false)));
        actor.Tell("set");
        ExpectMsg("set");

        actor.Tell("throw");
        ExpectMsg("restarted");

        ExpectNoMsg(Timeout * 2);
    }

    [Fact]
    public void A_timeout_of_zero_or_less_must_be_refused()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Idler(TestActor, Timeout, setInConstructor: false)));

        actor.Tell(TimeSpan.Zero);

        Assert.IsType<ArgumentOutOfRangeException>(ExpectMsg<Exception>());
    }

    [Fact]
    public void A_timeout_beyond_the_timer_limit_must_be_accepted()
    {
        // A .NET timer refuses more than about 49.7 days: SetReceiveTimeout threw ArgumentOutOfRangeException.
        var actor = Sys.ActorOf(Props.Create(() => new Idler(TestActor, Timeout, setInConstructor: false)));

        actor.Tell(TimeSpan.FromDays(60));
        actor.Tell("timeout?");

        ExpectMsg(TimeSpan.FromDays(60));
    }

    private sealed record TimedOut(TimeSpan IdleSinceActivity);

    [Fact]
    public void A_resumed_actor_must_keep_receiving_ReceiveTimeout_after_its_ReceiveTimeout_handler_threw()
    {
        // "Again after each further timeout of silence" (IActorContext.SetReceiveTimeout); Akka.NET re-arms it after
        // every message, failed or not, and a Resume keeps the actor as it was, its timeout included.
        var supervisor = Sys.ActorOf(Props.Create(() => new Parent())
            .WithSupervisorStrategy(new OneForOneStrategy(_ => Directive.Resume)));
        supervisor.Tell(Props.Create(() => new FlakyIdler(TestActor, Timeout)));
        var idler = ExpectMsg<IActorRef>();
        ExpectMsg("timeout 1, failing");

        idler.Tell("hello");
        ExpectMsg("got hello"); // resumed: the same instance

        // Another period of silence after "hello": a second ReceiveTimeout (its count shows there was no restart).
        ExpectMsg("timeout 2", Timeout * 10);
    }

    [Fact]
    public void A_receive_timeout_set_in_PreRestart_must_not_reach_the_new_instance()
    {
        // docs/actors.md: cleared on restart; the new instance sets its own (this one sets none).
        var actor = Sys.ActorOf(Props.Create(() => new SetsTimeoutWhenRestarting(TestActor, Timeout)));
        actor.Tell("fail");
        ExpectMsg("restarted");

        ExpectNoMsg(Timeout * 3);
    }

    private sealed class Probe : INotInfluenceReceiveTimeout;

    private sealed class SlowWorker : ReceiveActor
    {
        private readonly Stopwatch _sinceDone = new();

        public SlowWorker(IActorRef observer, TimeSpan timeout, ManualResetEventSlim release)
        {
            Context.SetReceiveTimeout(timeout);
            Receive<string>(_ =>
            {
                observer.Tell("working");
                release.Wait();
                _sinceDone.Restart();
            });
            Receive<ReceiveTimeout>(_ => observer.Tell(new TimedOut(_sinceDone.Elapsed)));
        }
    }

    private sealed class Ticking : ReceiveActor, IWithTimers
    {
        public Ticking(IActorRef observer, TimeSpan timeout)
        {
            Context.SetReceiveTimeout(timeout);
            Timers.StartPeriodicTimer("tick", new Probe(), timeout / 10);
            Receive<Probe>(_ => { });
            Receive<ReceiveTimeout>(timedOut => observer.Tell(timedOut));
        }

        public ITimerScheduler Timers { get; set; } = null!;
    }

    private sealed class Idler : ReceiveActor
    {
        private readonly Stopwatch _sinceActivity = Stopwatch.StartNew();

        public Idler(IActorRef observer, TimeSpan timeout, bool setInConstructor = true)
        {
            if (setInConstructor)
                Context.SetReceiveTimeout(timeout);

            Receive<ReceiveTimeout>(_ =>
            {
                observer.Tell(new TimedOut(_sinceActivity.Elapsed));
                _sinceActivity.Restart();
            });
            Receive<Probe>(_ => observer.Tell("probed"));
            Receive<TimeSpan>(value =>
            {
                try
                {
                    Context.SetReceiveTimeout(value);
                }
                catch (ArgumentOutOfRangeException ex)
                {
                    observer.Tell(ex);
                }
            });
            Receive<string>(command =>
            {
                _sinceActivity.Restart();
                switch (command)
                {
                    case "touch":
                        observer.Tell("touched");
                        break;
                    case "timeout?":
                        observer.Tell(Context.ReceiveTimeout ?? TimeSpan.Zero);
                        break;
                    case "clear":
                        Context.SetReceiveTimeout(null);
                        observer.Tell("cleared");
                        break;
                    case "set":
                        Context.SetReceiveTimeout(timeout);
                        observer.Tell("set");
                        break;
                    case "throw":
                        throw new InvalidOperationException("restart me");
                }
            });
            _postRestart = () => observer.Tell("restarted");
        }

        private readonly Action _postRestart;

        protected override void PostRestart(Exception reason) => _postRestart();
    }

    private sealed class Parent : ReceiveActor
    {
        public Parent() => Receive<Props>(props => Sender.Tell(Context.ActorOf(props)));
    }

    /// <summary>Sets a receive timeout; its first ReceiveTimeout handler fails, the later ones report.</summary>
    private sealed class FlakyIdler : ReceiveActor
    {
        private int _timeouts;

        public FlakyIdler(IActorRef observer, TimeSpan timeout)
        {
            Context.SetReceiveTimeout(timeout);
            Receive<ReceiveTimeout>(_ =>
            {
                if (++_timeouts == 1)
                {
                    observer.Tell("timeout 1, failing");
                    throw new InvalidOperationException("a flaky idle check");
                }

                observer.Tell($"timeout {_timeouts}");
            });
            Receive<string>(message => observer.Tell($"got {message}"));
        }
    }

    private sealed class SetsTimeoutWhenRestarting : ReceiveActor
    {
        private readonly IActorRef _observer;
        private readonly TimeSpan _timeout;

        public SetsTimeoutWhenRestarting(IActorRef observer, TimeSpan timeout)
        {
            _observer = observer;
            _timeout = timeout;
            Receive<string>(_ => throw new InvalidOperationException("fail"));
            Receive<ReceiveTimeout>(_ => observer.Tell("a receive timeout"));
        }

        protected override void PreRestart(Exception reason, object? message)
        {
            Context.SetReceiveTimeout(_timeout);
            base.PreRestart(reason, message);
        }

        protected override void PostRestart(Exception reason) => _observer.Tell("restarted");
    }
}
