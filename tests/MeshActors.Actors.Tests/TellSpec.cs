namespace MeshActors.Actors.Tests;

using MeshActors.TestKit;

public sealed class TellSpec(ITestOutputHelper output) : TestKit(output)
{
    [Fact]
    public void Tell_must_deliver_the_messages_of_one_sender_in_the_order_they_were_sent()
    {
        var relay = Sys.ActorOf(Props.Create(() => new TestActors.Relay(TestActor)));

        for (var i = 0; i < 10_000; i++)
        {
            relay.Tell(i);
        }

        var received = ReceiveN(10_000);
        Assert.Equal(Enumerable.Range(0, 10_000).Cast<object>(), received);
    }

    [Fact]
    public void Tell_from_inside_an_actor_without_a_sender_must_use_Self_as_the_sender()
    {
        var asker = Sys.ActorOf(Props.Create(() => new TellsWithoutSender(TestActor)), "asker");

        asker.Tell("go");

        ExpectMsg("hello");
        Assert.Equal(asker, LastSender);
    }

    [Fact]
    public void Tell_with_NoSender_must_show_dead_letters_as_the_sender()
    {
        var echo = Sys.ActorOf(Props.Create(() => new ReportsSender(TestActor)));

        echo.Tell("who", ActorRefs.NoSender);

        Assert.Equal(Sys.DeadLetters, ExpectMsg<IActorRef>());
    }

    [Fact]
    public void Tell_from_the_test_body_must_use_the_TestActor_as_the_implicit_sender()
    {
        var echo = Sys.ActorOf(Props.Create<TestActors.Echo>());

        echo.Tell("ping");

        ExpectMsg("ping");
        Assert.Equal(echo, LastSender);
    }

    [Fact]
    public void Forward_must_keep_the_original_sender()
    {
        var probe = CreateTestProbe();
        var relay = Sys.ActorOf(Props.Create(() => new TestActors.Relay(probe.Ref)));

        relay.Tell("forwarded");

        probe.ExpectMsg("forwarded");
        Assert.Equal(TestActor, probe.LastSender);
    }

    [Fact]
    public void References_must_be_equal_by_path_and_uid_and_usable_as_keys()
    {
        var echo = Sys.ActorOf(Props.Create<TestActors.Echo>(), "key");
        var relay = Sys.ActorOf(Props.Create(() => new TestActors.Relay(TestActor)));
        relay.Tell(echo);
        var roundTripped = ExpectMsg<IActorRef>();

        Assert.Equal(echo, roundTripped);
        Assert.Equal(echo.GetHashCode(), roundTripped.GetHashCode());
        Assert.Contains(roundTripped, new HashSet<IActorRef> { echo });
        Assert.NotEqual(echo, relay);
        Assert.Equal($"[{echo.Path}#{echo.Path.Uid}]", echo.ToString());
    }

    [Fact]
    public void Tell_to_a_stopped_actor_must_publish_a_dead_letter()
    {
        var deadLetters = CreateTestProbe();
        Sys.EventStream.Subscribe<DeadLetter>(deadLetters.Ref);
        var echo = Sys.ActorOf(Props.Create<TestActors.Echo>());
        Watch(echo);
        Sys.Stop(echo);
        ExpectTerminated(echo);

        echo.Tell("too late");

        var letter = deadLetters.ExpectMsg<DeadLetter>();
        Assert.Equal("too late", letter.Message);
        Assert.Equal(echo, letter.Recipient);
        Assert.Equal(TestActor, letter.Sender);
        Assert.True(Sys.DeadLetterCount >= 1);
    }

    [Fact]
    public void Tell_to_Nobody_must_be_dropped_without_failing()
    {
        ActorRefs.Nobody.Tell("nothing");
        Assert.Throws<ArgumentNullException>(() => TestActor.Tell(null!));
    }

    private sealed class TellsWithoutSender : ReceiveActor
    {
        public TellsWithoutSender(IActorRef target) => Receive<string>(_ => target.Tell("hello"));
    }

    private sealed class ReportsSender : ReceiveActor
    {
        public ReportsSender(IActorRef target) => ReceiveAny(_ => target.Tell(Sender));
    }
}
