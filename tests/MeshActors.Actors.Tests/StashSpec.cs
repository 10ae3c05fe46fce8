namespace MeshActors.Actors.Tests;

using MeshActors.TestKit;

public sealed class StashSpec(ITestOutputHelper output) : TestKit(output)
{
    [Fact]
    public void UnstashAll_must_deliver_the_stashed_messages_first_and_in_their_original_order()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Initializing()));

        actor.Tell("a");
        actor.Tell("b");
        actor.Tell("ready");
        actor.Tell("c");

        ExpectMsg("a");
        ExpectMsg("b");
        ExpectMsg("c");
    }

    [Fact]
    public void Unstash_must_return_only_the_oldest_stashed_message()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Initializing()));

        actor.Tell("a");
        actor.Tell("b");
        actor.Tell("one");
        actor.Tell("count");

        ExpectMsg("a");
        ExpectMsg(1);
    }

    [Fact]
    public void Stashed_messages_must_survive_a_restart()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Initializing()));

        actor.Tell("a");
        actor.Tell("throw");
        actor.Tell("ready");

        ExpectMsg("a");
    }

    [Fact]
    public void Stashed_messages_must_go_to_dead_letters_when_the_actor_stops()
    {
        var deadLetters = CreateTestProbe();
        Sys.EventStream.Subscribe<DeadLetter>(deadLetters.Ref);
        var actor = Sys.ActorOf(Props.Create(() => new Initializing()));

        actor.Tell("lost?");
        actor.Tell(PoisonPill.Instance);

        Assert.Equal("lost?", deadLetters.ExpectMsg<DeadLetter>().Message);
    }

    [Fact]
    public void Stashing_the_same_message_twice_must_throw_IllegalActorStateException_instead_of_delivering_it_twice()
    {
        // As in Akka.NET. The second Stash() queued the message again, and UnstashAll delivered it twice.
        var actor = Sys.ActorOf(Props.Create(() => new StashesTwice(TestActor)));

        actor.Tell("equal");
        actor.Tell("equal"); // two deliveries of equal messages: each may be stashed once
        actor.Tell("twice");
        ExpectMsg<IllegalActorStateException>();
        actor.Tell("open");

        ExpectMsg("equal");
        ExpectMsg("equal");
        ExpectMsg("twice");
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    private sealed class StashesTwice : ReceiveActor, IWithStash
    {
        public StashesTwice(IActorRef probe)
        {
            Receive<string>(s => s == "open", _ =>
            {
                Become(() => ReceiveAny(message => probe.Tell(message)));
                Stash.UnstashAll();
            });
            Receive<string>(s => s == "twice", _ =>
            {
                Stash.Stash();
                try
                {
                    Stash.Stash();
                }
                catch (IllegalActorStateException exception)
                {
                    probe.Tell(exception);
                }
            });
            ReceiveAny(_ => Stash.Stash());
        }

        public IStash Stash { get; set; } = null!;
    }

    private sealed class Initializing : ReceiveActor, IWithStash
    {
        public Initializing()
        {
            Receive<string>(s => s == "throw", _ => throw new InvalidOperationException("restart while stashing"));
            Receive<string>(s => s == "ready", _ =>
            {
                Become(Ready);
                Stash.UnstashAll();
            });
            Receive<string>(s => s == "one", _ =>
            {
                Become(Ready);
                Stash.Unstash();
            });
            ReceiveAny(_ => Stash.Stash());
        }

        public IStash Stash { get; set; } = null!;

        private void Ready()
        {
            Receive<string>(s => s == "count", _ => Sender.Tell(Stash.Count));
            ReceiveAny(m => Sender.Tell(m));
        }
    }
}
