namespace MeshActors.Actors.Tests;

using MeshActors.TestKit;

public sealed class DeathWatchSpec(ITestOutputHelper output) : TestKit(output)
{
    [Fact]
    public void DeathWatch_must_deliver_exactly_one_Terminated_when_a_watched_actor_stops()
    {
        var subject = Sys.ActorOf(Props.Create<TestActors.Echo>());
        var watcher = Sys.ActorOf(Props.Create(() => new Watcher(TestActor)));

        watcher.Tell(subject); // watch
        watcher.Tell(subject); // watching twice is one watch
        ExpectMsg("watching");
        ExpectMsg("watching");
        Sys.Stop(subject);

        Assert.Equal(subject, ExpectMsg<Terminated>().ActorRef);
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void DeathWatch_must_deliver_Terminated_at_once_for_an_actor_that_is_already_dead()
    {
        var subject = Sys.ActorOf(Props.Create<TestActors.Echo>());
        Watch(subject);
        Sys.Stop(subject);
        ExpectTerminated(subject);

        var lateProbe = CreateTestProbe();
        lateProbe.Watch(subject);

        lateProbe.ExpectTerminated(subject);
    }

    [Fact]
    public void DeathWatch_must_deliver_Terminated_for_dead_letters_and_Nobody()
    {
        Watch(Sys.DeadLetters);
        ExpectTerminated(Sys.DeadLetters);

        Watch(ActorRefs.Nobody);
        ExpectTerminated(ActorRefs.Nobody);
    }

    [Fact]
    public void Unwatch_must_prevent_the_Terminated_even_when_it_is_already_queued()
    {
        var subject = Sys.ActorOf(Props.Create<TestActors.Echo>());
        var watcher = Sys.ActorOf(Props.Create(() => new Watcher(TestActor)));
        watcher.Tell(subject);
        ExpectMsg("watching");

        // The watcher is busy while the subject stops; the unwatch command waits in its queue ahead of the
        // Terminated that DeathWatch queues once the watcher is free again.
        var gate = new TaskCompletionSource();
        var watcherMailbox = ((Internal.LocalActorRef)watcher).Cell.Mailbox;
        watcher.Tell(gate.Task);
        AwaitCondition(() => watcherMailbox.Count == 0);
        watcher.Tell(("unwatch", subject));
        Sys.Stop(subject);
        AwaitCondition(() => watcherMailbox.HasSystemMessages);
        gate.SetResult();

        ExpectMsg("unwatched");
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void An_unhandled_Terminated_must_fail_the_watcher_with_DeathPactException()
    {
        var subject = Sys.ActorOf(Props.Create<TestActors.Echo>());
        var pact = Sys.ActorOf(Props.Create(() => new IgnoresTerminated(subject)));
        Watch(pact);

        Sys.Stop(subject);

        ExpectTerminated(pact); // DeathPactException -> the default decider stops it
    }

    [Fact]
    public void A_parent_watching_its_child_must_get_one_Terminated()
    {
        var parent = Sys.ActorOf(Props.Create(() => new WatchingParent(TestActor)));
        var child = ExpectMsg<IActorRef>();

        child.Tell(PoisonPill.Instance);

        Assert.Equal(child, ExpectMsg<Terminated>().ActorRef);
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        parent.Tell("children");
        Assert.Equal(0, ExpectMsg<int>());
    }

    [Fact]
    public void Terminated_must_come_after_the_messages_the_subject_sent_before_stopping()
    {
        var subject = Sys.ActorOf(Props.Create(() => new SendsThenStops(TestActor)));
        Watch(subject);

        subject.Tell("go");

        Assert.Equal(Enumerable.Range(0, 100).Cast<object>(), ReceiveN(100));
        ExpectTerminated(subject);
    }

    private sealed class Watcher : ReceiveActor
    {
        public Watcher(IActorRef probe)
        {
            Receive<IActorRef>(subject =>
            {
                Context.Watch(subject);
                probe.Tell("watching");
            });
            Receive<Task>(gate => gate.Wait());
            Receive<(string, IActorRef)>(command =>
            {
                Context.Unwatch(command.Item2);
                probe.Tell("unwatched");
            });
            Receive<Terminated>(terminated => probe.Tell(terminated));
        }
    }

    private sealed class IgnoresTerminated : ReceiveActor
    {
        public IgnoresTerminated(IActorRef subject)
        {
            Context.Watch(subject);
            Receive<string>(_ => { });
        }
    }

    private sealed class WatchingParent : ReceiveActor
    {
        public WatchingParent(IActorRef probe)
        {
            var child = Context.Watch(Context.ActorOf(Props.Create<TestActors.Echo>(), "child"));
            probe.Tell(child);
            Receive<Terminated>(terminated => probe.Tell(terminated));
            Receive<string>(_ => Sender.Tell(Context.Children.Count()));
        }
    }

    private sealed class SendsThenStops : ReceiveActor
    {
        public SendsThenStops(IActorRef probe) => Receive<string>(_ =>
        {
            for (var i = 0; i < 100; i++)
            {
                probe.Tell(i);
            }

            Context.Stop(Self);
        });
    }
}
