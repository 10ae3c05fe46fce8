using System.Diagnostics;

namespace MeshActors.Actors.Tests;

using MeshActors.TestKit;
using MeshActors.Testing;

public sealed class BackoffSupervisorSpec(ITestOutputHelper output) : TestKit(output)
{
    private static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(40);

    [Fact]
    public void A_failing_child_must_be_restarted_after_exponentially_growing_delays()
    {
        var supervisor = Sys.ActorOf(BackoffSupervisor.Props(
            BackoffOptions.OnFailure(Props.Create(() => new Child(TestActor)), "child", MinBackoff, TimeSpan.FromSeconds(5), 0.0)
                with { ResetBackoffAfter = TimeSpan.FromMinutes(1) }));
        ExpectMsg("started");

        var delays = new List<TimeSpan>();
        for (var i = 0; i < 3; i++)
        {
            var clock = Stopwatch.StartNew();
            supervisor.Tell("fail");
            ExpectMsg("started");
            delays.Add(clock.Elapsed);
        }

        Assert.True(delays[0] >= MinBackoff - TestTimeouts.TimerSlack, $"first delay {delays[0]}");
        Assert.True(delays[1] >= 2 * MinBackoff - TestTimeouts.TimerSlack, $"second delay {delays[1]}");
        Assert.True(delays[2] >= 4 * MinBackoff - TestTimeouts.TimerSlack, $"third delay {delays[2]}");
        supervisor.Tell(BackoffSupervisor.GetRestartCount.Instance);
        Assert.Equal(3, ExpectMsg<BackoffSupervisor.RestartCount>().Count);
    }

    [Fact]
    public void Messages_must_be_forwarded_to_the_child_and_go_to_dead_letters_while_it_is_down()
    {
        var deadLetters = CreateTestProbe();
        Sys.EventStream.Subscribe<DeadLetter>(deadLetters.Ref);
        var supervisor = Sys.ActorOf(BackoffSupervisor.Props(
            BackoffOptions.OnFailure(Props.Create(() => new Child(TestActor)), "child", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), 0.0)));
        ExpectMsg("started");

        supervisor.Tell("hello");
        ExpectMsg("echo hello");
        Assert.Equal("child", LastSender.Path.Name); // the child replied to the original sender

        supervisor.Tell("fail");
        AwaitAssert(() =>
        {
            supervisor.Tell(BackoffSupervisor.GetCurrentChild.Instance);
            Assert.Null(ExpectMsg<BackoffSupervisor.CurrentChild>().Ref);
        });
        supervisor.Tell("while down");

        Assert.Equal("while down", deadLetters.FishForMessage<DeadLetter>(d => d.Message is "while down").Message);
    }

    [Fact]
    public void A_child_that_runs_long_enough_must_reset_the_backoff()
    {
        var supervisor = Sys.ActorOf(BackoffSupervisor.Props(
            BackoffOptions.OnFailure(Props.Create(() => new Child(TestActor)), "child", MinBackoff, TimeSpan.FromSeconds(5), 0.0)));
        ExpectMsg("started");
        supervisor.Tell("fail");
        ExpectMsg("started");
        supervisor.Tell("fail");
        ExpectMsg("started");

        AwaitAssert(() =>
        {
            supervisor.Tell(BackoffSupervisor.GetRestartCount.Instance);
            Assert.Equal(0, ExpectMsg<BackoffSupervisor.RestartCount>().Count);
        });
    }

    [Fact]
    public void The_supervisor_must_stop_after_maxNrOfRetries_restarts_in_a_row()
    {
        var supervisor = Sys.ActorOf(BackoffSupervisor.Props(
            BackoffOptions.OnFailure(Props.Create(() => new Child(TestActor)), "child", TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(20), 0.2, maxNrOfRetries: 2)
                with { ResetBackoffAfter = TimeSpan.FromMinutes(1) }));
        Watch(supervisor);
        ExpectMsg("started");

        supervisor.Tell("fail");
        ExpectMsg("started");
        supervisor.Tell("fail");
        ExpectMsg("started");
        supervisor.Tell("fail");

        ExpectTerminated(supervisor);
    }

    [Fact]
    public void A_child_failing_in_its_constructor_must_be_retried_with_backoff()
    {
        var attempts = 0;
        var supervisor = Sys.ActorOf(BackoffSupervisor.Props(
            BackoffOptions.OnFailure(
                Props.Create(() => Interlocked.Increment(ref attempts) < 3 ? throw new InvalidOperationException("cannot start") : new Child(TestActor)),
                "child",
                TimeSpan.FromMilliseconds(10),
                TimeSpan.FromMilliseconds(50),
                0.0)));

        ExpectMsg("started");
        Assert.Equal(3, attempts);
        supervisor.Tell("ping");
        ExpectMsg("echo ping");
    }

    [Fact]
    public void OnFailure_must_stop_the_supervisor_when_the_child_stops_by_itself_and_OnStop_must_restart_it()
    {
        var onFailure = Sys.ActorOf(BackoffSupervisor.Props(
            BackoffOptions.OnFailure(Props.Create(() => new Child(TestActor)), "child", MinBackoff, TimeSpan.FromSeconds(1), 0.0)));
        Watch(onFailure);
        ExpectMsg("started");
        onFailure.Tell("stop");
        ExpectTerminated(onFailure);

        var onStop = Sys.ActorOf(BackoffSupervisor.Props(
            BackoffOptions.OnStop(Props.Create(() => new Child(TestActor)), "child", MinBackoff, TimeSpan.FromSeconds(1), 0.0)));
        ExpectMsg("started");
        onStop.Tell("stop");
        ExpectMsg("started");
    }

    [Fact]
    public void CalculateDelay_must_double_up_to_the_maximum_with_jitter_within_the_random_factor()
    {
        var min = TimeSpan.FromMilliseconds(100);
        var max = TimeSpan.FromSeconds(1);

        Assert.Equal(min, BackoffSupervisor.CalculateDelay(0, min, max, 0));
        Assert.Equal(2 * min, BackoffSupervisor.CalculateDelay(1, min, max, 0));
        Assert.Equal(max, BackoffSupervisor.CalculateDelay(10, min, max, 0));
        Assert.Equal(max, BackoffSupervisor.CalculateDelay(1_000, min, max, 0));
        for (var i = 0; i < 100; i++)
        {
            var jittered = BackoffSupervisor.CalculateDelay(2, min, max, 0.5);
            Assert.InRange(jittered, 4 * min, 6 * min);
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => BackoffOptions.OnFailure(Props.Create(() => new Child(TestActor)), "c", max, min, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => BackoffOptions.OnFailure(Props.Create(() => new Child(TestActor)), "c", min, max, 2));
    }

    [Fact]
    public void CalculateDelay_must_not_overflow_when_the_minimum_is_long()
    {
        // min * 2^count overflowed a long of ticks before the guard at 30 restarts: (29, 30 min, 1 h) gave -10165587
        // days, and the supervisor's timer then threw inside its Terminated handler.
        Assert.Equal(TimeSpan.FromHours(1), BackoffSupervisor.CalculateDelay(29, TimeSpan.FromMinutes(30), TimeSpan.FromHours(1), 0));
        Assert.Equal(TimeSpan.FromDays(365), BackoffSupervisor.CalculateDelay(20, TimeSpan.FromDays(1), TimeSpan.FromDays(365), 0));
        Assert.Equal(TimeSpan.MaxValue, BackoffSupervisor.CalculateDelay(62, TimeSpan.FromDays(1), TimeSpan.MaxValue, 1));
    }

    private sealed class Child : ReceiveActor
    {
        private readonly IActorRef _probe;

        public Child(IActorRef probe)
        {
            _probe = probe;
            Receive<string>(s => s == "fail", _ => throw new InvalidOperationException("child fails"));
            Receive<string>(s => s == "stop", _ => Context.Stop(Self));
            Receive<string>(s => Sender.Tell($"echo {s}"));
        }

        protected override void PreStart() => _probe.Tell("started");
    }
}
