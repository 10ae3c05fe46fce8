namespace MeshActors.Actors.Tests;

using MeshActors.TestKit;
using Xunit.Sdk;

/// <summary>Behaviour stack, EventStream and TestKit semantics checked against Akka.NET's.</summary>
public sealed class AkkaParitySpec(ITestOutputHelper output) : TestKit(output)
{
    [Fact]
    public void UnbecomeStacked_after_Become_must_return_to_the_initial_behavior()
    {
        // The initial receive stays at the bottom of the stack: Become from it pushes on top, and UnbecomeStacked goes
        // back to it (Akka.NET's ActorBecomeTests).
        var actor = Sys.ActorOf(Props.Create(() => new Moody()));

        actor.Tell("become");
        actor.Tell("unbecome");
        actor.Tell("hello");
        ExpectMsg("1:hello");

        actor.Tell("become");
        actor.Tell("become"); // replaces behavior 2 with 3: nothing to return to but the initial one
        actor.Tell("unbecome");
        actor.Tell("hello");
        ExpectMsg("1:hello");
    }

    [Fact]
    public void Within_must_fail_a_block_that_an_expectation_after_an_ExpectNoMsg_made_too_slow()
    {
        // ExpectNoMsg() listening to the end of the block lets the block end just after its deadline (Akka.NET's
        // LastWasNoMsg), but only while it is the block's last wait: the next receive clears that allowance.
        using var late = new Timer(_ => TestActor.Tell("late", ActorRefs.NoSender), null, Dilated(TimeSpan.FromMilliseconds(700)), Timeout.InfiniteTimeSpan);

        var failure = Assert.Throws<XunitException>(() => Within(TimeSpan.FromMilliseconds(200), () =>
        {
            ExpectNoMsg();                                      // listens until the block's deadline, 200 ms
            ExpectMsg("late", TimeSpan.FromSeconds(3));         // arrives about 500 ms after that deadline
        }));

        Assert.Contains("more than the allowed", failure.Message);
    }

    [Fact]
    public void A_subscriber_that_is_already_stopped_must_not_stay_subscribed_to_the_EventStream()
    {
        // A subscription that lands after its actor stopped (here: after; in practice also one racing with the stop)
        // must not hold on: each matching event would be a dead letter for the rest of the system's life. Akka.NET's
        // EventStream watches each subscriber and drops a dead one.
        var subscriber = Sys.ActorOf(Props.Create<TestActors.Echo>());
        Watch(subscriber);
        Sys.Stop(subscriber);
        ExpectTerminated(subscriber);

        Sys.EventStream.Subscribe<Ping>(subscriber);

        var published = 0;
        AwaitAssert(() =>
        {
            var before = Sys.DeadLetterCount;
            Sys.EventStream.Publish(new Ping(++published));
            Assert.True(before == Sys.DeadLetterCount, $"publishing Ping {published} to the stopped subscriber made a dead letter");
        });
        Assert.False(Sys.EventStream.Unsubscribe(subscriber));
    }

    private sealed record Ping(int Number);

    private sealed class Moody : UntypedActor
    {
        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case "become":
                    Become(Second);
                    break;
                case "unbecome":
                    UnbecomeStacked();
                    break;
                default:
                    Sender.Tell($"1:{message}");
                    break;
            }
        }

        private void Second(object message)
        {
            switch (message)
            {
                case "become":
                    Become(Third);
                    break;
                case "unbecome":
                    UnbecomeStacked();
                    break;
                default:
                    Sender.Tell($"2:{message}");
                    break;
            }
        }

        private void Third(object message)
        {
            switch (message)
            {
                case "unbecome":
                    UnbecomeStacked();
                    break;
                default:
                    Sender.Tell($"3:{message}");
                    break;
            }
        }
    }
}
