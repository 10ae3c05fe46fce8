using System.Runtime.CompilerServices;

namespace MeshActors.Actors.Tests;

using MeshActors.TestKit;

public sealed class EventStreamSpec(ITestOutputHelper output) : TestKit(output)
{
    [Fact]
    public void Subscribe_by_type_must_receive_that_type_and_its_subtypes_only()
    {
        var animals = CreateTestProbe();
        var dogs = CreateTestProbe();
        Sys.EventStream.Subscribe<Animal>(animals.Ref);
        Sys.EventStream.Subscribe(dogs.Ref, typeof(Dog));

        Sys.EventStream.Publish(new Dog("rex"));
        Sys.EventStream.Publish(new Cat("tom"));
        Sys.EventStream.Publish("not an animal");

        animals.ExpectMsg(new Dog("rex"));
        animals.ExpectMsg(new Cat("tom"));
        dogs.ExpectMsg(new Dog("rex"));
        animals.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        dogs.ExpectNoMsg(TimeSpan.FromMilliseconds(10));
    }

    [Fact]
    public void Subscribe_twice_must_deliver_once_and_Unsubscribe_must_stop_delivery()
    {
        var probe = CreateTestProbe();
        Assert.True(Sys.EventStream.Subscribe<Dog>(probe.Ref));
        Assert.False(Sys.EventStream.Subscribe<Dog>(probe.Ref));

        Sys.EventStream.Publish(new Dog("once"));
        probe.ExpectMsg(new Dog("once"));
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        Assert.True(Sys.EventStream.Unsubscribe(probe.Ref, typeof(Dog)));
        Assert.False(Sys.EventStream.Unsubscribe(probe.Ref));
        Sys.EventStream.Publish(new Dog("never"));
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_handler_subscription_must_run_until_disposed_and_survive_a_throwing_handler()
    {
        var seen = new List<string>();
        using (Sys.EventStream.Subscribe<Dog>(dog => seen.Add(dog.Name)))
        using (Sys.EventStream.Subscribe<Dog>(_ => throw new InvalidOperationException("bad handler")))
        {
            Sys.EventStream.Publish(new Dog("a"));
            Sys.EventStream.Publish(new Dog("b"));
        }

        Sys.EventStream.Publish(new Dog("c"));

        Assert.Equal(["a", "b"], seen);
    }

    [Fact]
    public void A_stopped_subscriber_must_be_unsubscribed()
    {
        var subscriber = Sys.ActorOf(Props.Create<TestActors.Echo>());
        Sys.EventStream.Subscribe<Dog>(subscriber);
        Watch(subscriber);

        Sys.Stop(subscriber);
        ExpectTerminated(subscriber);

        Assert.False(Sys.EventStream.Unsubscribe(subscriber));
    }

    [Fact]
    public void Stopping_a_dead_letter_subscriber_with_messages_queued_must_not_publish_dead_letters_of_dead_letters()
    {
        // Its queued messages became dead letters published to itself, each one a new dead letter: a recursion that
        // overflowed the stack. The bound unsubscribes it after a few rounds so that the regression fails, not crashes.
        var subscriber = Sys.ActorOf(Props.Create(() => new Gated()));
        using var bound = BoundRecursionThrough(subscriber, out var nested);
        Sys.EventStream.Subscribe<DeadLetter>(subscriber);
        var gate = new TaskCompletionSource();
        Watch(subscriber);

        subscriber.Tell(gate.Task);
        subscriber.Tell(PoisonPill.Instance);
        subscriber.Tell("queued behind the PoisonPill");
        gate.SetResult();

        ExpectTerminated(subscriber);
        Assert.Equal(0, nested.Value);
    }

    [Fact]
    public void A_full_bounded_dead_letter_subscriber_must_not_receive_dead_letters_of_the_dead_letters_it_refused()
    {
        // Its overflow was a dead letter published to itself, which overflowed again: the same recursion.
        var gate = new TaskCompletionSource();
        var subscriber = Sys.ActorOf(Props.Create(() => new Gated()).WithBoundedMailbox(1));
        subscriber.Tell(gate.Task);
        AwaitCondition(() => ((Internal.LocalActorRef)subscriber).Cell.Mailbox.Count == 0); // the gate is being processed
        using var bound = BoundRecursionThrough(subscriber, out var nested);
        Sys.EventStream.Subscribe<DeadLetter>(subscriber);

        Sys.DeadLetters.Tell("fills its mailbox");
        Sys.DeadLetters.Tell("overflows it");
        gate.SetResult();

        Assert.Equal(0, nested.Value);
        Assert.Equal(1, Sys.MailboxOverflowCount);
    }

    [Fact]
    public void An_event_that_a_subscriber_to_object_leaves_unhandled_must_not_come_back_to_it_without_end()
    {
        // Each UnhandledMessage it left unhandled was published as a new UnhandledMessage, which it received again.
        var unhandled = CreateTestProbe();
        var subscriber = Sys.ActorOf(Props.Create(() => new LeavesEventsUnhandled(unhandled.Ref)));
        Sys.EventStream.Subscribe<object>(subscriber);

        Sys.EventStream.Publish(42);

        unhandled.ExpectMsg(42);
        Assert.Equal(42, unhandled.ExpectMsg<UnhandledMessage>().Message);
        unhandled.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    /// <summary>
    /// Counts dead letters of dead letters; after a few, unsubscribes <paramref name="subscriber"/>, which ends a
    /// recursion through it. Subscribe it after this handler, which must see each event before it does.
    /// </summary>
    private IDisposable BoundRecursionThrough(IActorRef subscriber, out StrongBox<int> nested)
    {
        var count = nested = new StrongBox<int>();
        return Sys.EventStream.Subscribe<DeadLetter>(letter =>
        {
            if (letter.Message is DeadLetter && Interlocked.Increment(ref count.Value) == 20)
            {
                Sys.EventStream.Unsubscribe(subscriber);
            }
        });
    }

    /// <summary>Waits on the task it receives; ignores everything else.</summary>
    private sealed class Gated : ReceiveActor
    {
        public Gated()
        {
            Receive<Task>(gate => gate.Wait());
            ReceiveAny(_ => { });
        }
    }

    /// <summary>Handles strings only; reports what it leaves unhandled, and unsubscribes after a few (a bound for the regression).</summary>
    private sealed class LeavesEventsUnhandled : ReceiveActor
    {
        private readonly IActorRef _probe;
        private int _unhandled;

        public LeavesEventsUnhandled(IActorRef probe)
        {
            _probe = probe;
            Receive<string>(_ => { });
        }

        protected override void Unhandled(object message)
        {
            _probe.Tell(message);
            if (++_unhandled == 10)
            {
                Context.System.EventStream.Unsubscribe(Self);
            }

            base.Unhandled(message);
        }
    }

    private abstract record Animal(string Name);

    private sealed record Dog(string Name) : Animal(Name);

    private sealed record Cat(string Name) : Animal(Name);
}
