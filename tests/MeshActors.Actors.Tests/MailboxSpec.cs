namespace MeshActors.Actors.Tests;

using MeshActors.TestKit;

public sealed class MailboxSpec(ITestOutputHelper output) : TestKit(output)
{
    [Fact]
    public void A_bounded_mailbox_must_send_overflow_to_dead_letters_count_it_and_never_block_the_sender()
    {
        var deadLetters = CreateTestProbe();
        Sys.EventStream.Subscribe<DeadLetter>(deadLetters.Ref);
        var gate = new TaskCompletionSource();
        var actor = Sys.ActorOf(Props.Create(() => new GatedRelay(TestActor)).WithBoundedMailbox(3));
        actor.Tell(gate.Task);
        AwaitCondition(() => ((Internal.LocalActorRef)actor).Cell.Mailbox.Count == 0); // the gate is being processed

        for (var i = 0; i < 5; i++)
        {
            actor.Tell(i); // returns at once even when full
        }

        Assert.Equal(3, deadLetters.ExpectMsg<DeadLetter>().Message);
        Assert.Equal(4, deadLetters.ExpectMsg<DeadLetter>().Message);
        Assert.Equal(2, Sys.MailboxOverflowCount);
        gate.SetResult();
        Assert.Equal([0, 1, 2], ReceiveN(3));
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        actor.Tell(5); // room again once drained
        ExpectMsg(5);
    }

    [Fact]
    public async Task An_ask_to_a_full_bounded_mailbox_must_fail_fast()
    {
        var gate = new TaskCompletionSource();
        var actor = Sys.ActorOf(Props.Create(() => new GatedRelay(TestActor)).WithBoundedMailbox(1));
        actor.Tell(gate.Task);
        AwaitCondition(() => ((Internal.LocalActorRef)actor).Cell.Mailbox.Count == 0);
        actor.Tell("fills the mailbox");

        await Assert.ThrowsAsync<MailboxOverflowException>(() => actor.Ask<string>("no room", TimeSpan.FromSeconds(30)));
        gate.SetResult();
    }

    [Fact]
    public void A_Terminated_must_not_be_lost_to_a_full_bounded_mailbox()
    {
        var gate = new TaskCompletionSource();
        var subject = Sys.ActorOf(Props.Create<TestActors.Echo>());
        var watcher = Sys.ActorOf(Props.Create(() => new GatedRelay(TestActor)).WithBoundedMailbox(1));
        watcher.Tell(subject);
        ExpectMsg("watching");
        watcher.Tell(gate.Task);
        AwaitCondition(() => ((Internal.LocalActorRef)watcher).Cell.Mailbox.Count == 0);
        watcher.Tell("fills the mailbox");

        Sys.Stop(subject);
        AwaitCondition(() => ((Internal.LocalActorRef)watcher).Cell.Mailbox.HasSystemMessages); // its death notice waits
        gate.SetResult();

        ExpectMsg("fills the mailbox");
        ExpectMsg<Terminated>();
    }

    [Fact]
    public void MailboxOptions_must_reject_a_capacity_below_one()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MailboxOptions.Bounded(0));
        Assert.Null(MailboxOptions.Unbounded.BoundedCapacity);
    }

    [Fact]
    public async Task An_actor_must_yield_its_thread_after_its_throughput_so_that_others_progress()
    {
        // One thread-pool turn processes at most Throughput messages, so a flooded actor cannot starve another.
        var system = ActorSystem.Create("fairness", new ActorSystemOptions { Throughput = 5 });
        try
        {
            var counts = new int[2];
            var busy = system.ActorOf(Props.Create(() => new Counting(counts, 0)));
            for (var i = 0; i < 20_000; i++)
            {
                busy.Tell(i);
            }

            var other = system.ActorOf(Props.Create(() => new Counting(counts, 1)));
            other.Tell(0);

            await AwaitConditionAsync(() => Volatile.Read(ref counts[1]) == 1);
            Assert.True(Volatile.Read(ref counts[0]) < 20_000, "the other actor ran before the flood was drained");
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task A_stopped_actor_with_a_bounded_mailbox_must_refuse_messages_as_stopped_not_as_full()
    {
        // Messages drained after its stop were never uncounted, so its mailbox stayed full: later messages counted as
        // overflow, and a forwarded ask failed with MailboxOverflowException instead of ActorTerminatedException.
        var actor = Sys.ActorOf(Props.Create<TestActors.Echo>().WithBoundedMailbox(1));
        var relay = Sys.ActorOf(Props.Create(() => new TestActors.Relay(actor)));
        Watch(actor);
        Sys.Stop(actor);
        ExpectTerminated(actor);

        actor.Tell("after its stop");
        actor.Tell("after its stop, again");

        await Assert.ThrowsAsync<ActorTerminatedException>(() => relay.Ask<string>("forwarded", TimeSpan.FromSeconds(30)));
        Assert.Equal(0, Sys.MailboxOverflowCount);
    }

    private sealed class GatedRelay : ReceiveActor
    {
        public GatedRelay(IActorRef probe)
        {
            Receive<Task>(gate => gate.Wait());
            Receive<IActorRef>(subject =>
            {
                Context.Watch(subject);
                probe.Tell("watching");
            });
            ReceiveAny(m => probe.Tell(m));
        }
    }

    private sealed class Counting : ReceiveActor
    {
        public Counting(int[] counts, int index) => ReceiveAny(_ =>
        {
            Thread.SpinWait(2_000); // a few microseconds of work per message
            Interlocked.Increment(ref counts[index]);
        });
    }
}
