namespace MeshActors.Actors.Tests;

using MeshActors.TestKit;

public sealed class ConcurrencyStressSpec(ITestOutputHelper output) : TestKit(output)
{
    private const int Receivers = 40;
    private const int ThreadSenders = 6;
    private const int ActorSenders = 6;
    private const int MessagesPerSenderAndReceiver = 2_000;

    [Fact]
    public async Task Many_senders_to_many_actors_must_lose_duplicate_and_reorder_nothing()
    {
        var receivers = Enumerable.Range(0, Receivers)
            .Select(i => Sys.ActorOf(Props.Create(() => new SequenceChecker(ThreadSenders + ActorSenders)), $"receiver-{i}"))
            .ToArray();

        // Half of the senders are plain threads, half are actors (whose Tells run on pool threads, preferring local queues).
        var threadSenders = Enumerable.Range(0, ThreadSenders).Select(sender => Task.Run(() =>
        {
            for (var seq = 0; seq < MessagesPerSenderAndReceiver; seq++)
            {
                foreach (var receiver in receivers)
                {
                    receiver.Tell(new Numbered(sender, seq));
                }
            }
        }));
        var actorSenders = Enumerable.Range(ThreadSenders, ActorSenders)
            .Select(sender => Sys.ActorOf(Props.Create(() => new Sender(sender, receivers))).Ask<string>("go", Dilated(TimeSpan.FromSeconds(20))));
        await Task.WhenAll(threadSenders.Concat<Task>(actorSenders));

        var expected = (ThreadSenders + ActorSenders) * MessagesPerSenderAndReceiver;
        foreach (var receiver in receivers)
        {
            await AwaitConditionAsync(async () => (await receiver.Ask<Report>("report")).Received == expected, Dilated(TimeSpan.FromSeconds(20)));
            var report = await receiver.Ask<Report>("report");
            Assert.Equal(0, report.OutOfOrder);
        }
    }

    [Fact]
    public async Task The_mailbox_must_never_lose_a_wake_up_with_one_message_in_flight()
    {
        // Each hop finds the recipient's mailbox idle or finishing a turn: a lost wake-up stalls a pair for good.
        const int pairs = 8;
        const int hops = 20_000;
        var done = Enumerable.Range(0, pairs).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        for (var i = 0; i < pairs; i++)
        {
            var completion = done[i];
            var pong = Sys.ActorOf(Props.Create<TestActors.Echo>());
            var ping = Sys.ActorOf(Props.Create(() => new Pinger(pong, hops, completion)));
            ping.Tell("start");
        }

        await Task.WhenAll(done.Select(d => d.Task)).WaitAsync(Dilated(TimeSpan.FromSeconds(20)));
    }

    private sealed record Numbered(int Sender, int Seq);

    private sealed record Report(long Received, long OutOfOrder);

    private sealed class SequenceChecker : ReceiveActor
    {
        private readonly int[] _next;
        private long _received;
        private long _outOfOrder;

        public SequenceChecker(int senders)
        {
            _next = new int[senders];
            Receive<Numbered>(message =>
            {
                _received++;
                if (_next[message.Sender] != message.Seq)
                {
                    _outOfOrder++;
                }

                _next[message.Sender] = message.Seq + 1;
            });
            Receive<string>(_ => Sender.Tell(new Report(_received, _outOfOrder)));
        }
    }

    private sealed class Sender : ReceiveActor
    {
        public Sender(int id, IActorRef[] receivers) => Receive<string>(_ =>
        {
            for (var seq = 0; seq < MessagesPerSenderAndReceiver; seq++)
            {
                foreach (var receiver in receivers)
                {
                    receiver.Tell(new Numbered(id, seq));
                }
            }

            Sender.Tell("sent");
        });
    }

    private sealed class Pinger : ReceiveActor
    {
        private int _left;

        public Pinger(IActorRef pong, int hops, TaskCompletionSource done)
        {
            _left = hops;
            ReceiveAny(message =>
            {
                if (--_left < 0)
                {
                    done.TrySetResult();
                    return;
                }

                pong.Tell(message);
            });
        }
    }
}
