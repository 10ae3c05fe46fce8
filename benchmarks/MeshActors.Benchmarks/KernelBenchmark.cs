using System.Diagnostics;
using MeshActors.Actors;

namespace MeshActors.Benchmarks;

/// <summary>
/// The actor kernel's figures: in-process ping-pong throughput and latency, sequential asks, spawn rate and the
/// memory of an idle actor, and the allocation of a Tell. Conditions go to standard error, figures to standard output.
/// </summary>
public sealed class KernelBenchmark : IBenchmarkSuite
{
    private const int Window = 200;
    private static readonly object Ball = new();

    public string Name => "kernel";

    public async Task RunAsync(string[] args)
    {
        var cores = Environment.ProcessorCount;
        var pairs = 2 * cores;
        await using var system = ActorSystem.Create("kernel-benchmark");
        Condition($"throughput {system.Options.Throughput} messages per turn; pairs: {pairs} ({cores} cores), window {Window} messages in flight per pair");

        // Each measurement runs once to warm up (JIT tiers, pool threads), then for real.
        await PingPongPairs(system, pairs, Window, TimeSpan.FromMilliseconds(500));
        var (msgsPerSecond, bytesPerMessage) = await PingPongPairs(system, pairs, Window, TimeSpan.FromSeconds(4));
        Figure($"kernel.pingpong.pairs msgs/s={msgsPerSecond:0}");
        Condition($"pingpong.pairs allocated {bytesPerMessage:0.00} bytes/msg in total (all threads)");

        await PingPongPairs(system, 1, 1, TimeSpan.FromMilliseconds(500));
        var (hopsPerSecond, _) = await PingPongPairs(system, 1, 1, TimeSpan.FromSeconds(3));
        Figure($"kernel.pingpong.single ns/hop={1e9 / hopsPerSecond:0}");

        await SequentialAsks(system, TimeSpan.FromMilliseconds(500));
        Figure($"kernel.ask.sequential asks/s={await SequentialAsks(system, TimeSpan.FromSeconds(3)):0}");

        // Spawning is dominated by the GC promoting what survives: the median of three runs after a warm-up one.
        var spawns = new List<(double ActorsPerSecond, double BytesPerActor)>();
        for (var run = 0; run < 4; run++)
        {
            spawns.Add(await Spawn(system, 100_000, messageEach: false));
        }

        var (actorsPerSecond, bytesPerActor) = spawns.Skip(1).OrderBy(s => s.ActorsPerSecond).ElementAt(1);
        Figure($"kernel.spawn actors/s={actorsPerSecond:0} bytes/actor={bytesPerActor:0}");
        Condition($"spawn: 100,000 top-level ReceiveActors per run, until each has run its constructor; median of 3 runs: {string.Join(", ", spawns.Skip(1).Select(s => $"{s.ActorsPerSecond:0}/s"))}");
        var (_, bytesPerMessagedActor) = await Spawn(system, 100_000, messageEach: true);
        Condition($"spawn: {bytesPerMessagedActor:0} bytes/actor once each actor has received a message (its queue exists)");

        await TellAllocation(system, 200_000);
        Figure($"kernel.tell bytes/op={await TellAllocation(system, 2_000_000):0}");
    }

    /// <summary>Pairs of actors bounce <paramref name="window"/> messages each; counts every delivered message.</summary>
    private static async Task<(double MessagesPerSecond, double BytesPerMessage)> PingPongPairs(ActorSystem system, int pairs, int window, TimeSpan duration)
    {
        var stop = new StrongBox<bool>();
        var done = new List<Task<long>>();
        var actors = new List<IActorRef>();
        for (var i = 0; i < pairs; i++)
        {
            var finished = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            var pong = system.ActorOf(Props.Create(() => new Pong()));
            var ping = system.ActorOf(Props.Create(() => new Ping(pong, window, stop, finished)));
            actors.Add(ping);
            actors.Add(pong);
            done.Add(finished.Task);
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        foreach (var ping in actors.Where((_, index) => index % 2 == 0))
        {
            ping.Tell(Start.Instance, ActorRefs.NoSender);
        }

        await Task.Delay(duration);
        Volatile.Write(ref stop.Value, true);
        var counts = await Task.WhenAll(done);
        var elapsed = clock.Elapsed;
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        await StopAll(actors);
        var messages = counts.Sum();
        return (messages / elapsed.TotalSeconds, (double)allocated / messages);
    }

    /// <summary>One caller asks an echo actor, awaiting each reply before the next question.</summary>
    private static async Task<double> SequentialAsks(ActorSystem system, TimeSpan duration)
    {
        var echo = system.ActorOf(Props.Create(() => new Pong()));
        var clock = Stopwatch.StartNew();
        long asks = 0;
        while (clock.Elapsed < duration)
        {
            for (var i = 0; i < 1_000; i++)
            {
                await echo.Ask<object>(Ball).ConfigureAwait(false);
            }

            asks += 1_000;
        }

        var rate = asks / clock.Elapsed.TotalSeconds;
        await StopAll([echo]);
        return rate;
    }

    /// <summary>Creates <paramref name="count"/> top-level actors and waits until each has run its constructor.</summary>
    private static async Task<(double ActorsPerSecond, double BytesPerActor)> Spawn(ActorSystem system, int count, bool messageEach)
    {
        var started = new CountdownEvent(count);
        var props = Props.Create(() => new Idle(started));
        var actors = new IActorRef[count];
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            actors[i] = system.ActorOf(props);
        }

        started.Wait();
        var elapsed = clock.Elapsed;
        if (messageEach)
        {
            started.Reset(count);
            foreach (var actor in actors)
            {
                actor.Tell(Ball, ActorRefs.NoSender);
            }

            started.Wait();
        }

        var after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(actors);
        var bytesPerActor = (double)(after - before) / count; // the benchmark's own array is in both readings
        await StopAll(actors);
        return (count / elapsed.TotalSeconds, bytesPerActor);
    }

    /// <summary>Bytes allocated on all threads per Tell of a preallocated message to a counting actor, queue kept short.</summary>
    private static async Task<double> TellAllocation(ActorSystem system, int tells)
    {
        var processed = new StrongBox<long>();
        var sink = system.ActorOf(Props.Create(() => new Sink(processed)));
        const int batch = 1_000;
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        for (var sent = 0; sent < tells; sent += batch)
        {
            for (var i = 0; i < batch; i++)
            {
                sink.Tell(Ball, ActorRefs.NoSender);
            }

            var target = sent + batch;
            var spinner = default(SpinWait);
            while (Volatile.Read(ref processed.Value) < target)
            {
                spinner.SpinOnce();
            }
        }

        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        await StopAll([sink]);
        return Math.Max(0, (double)allocated / tells);
    }

    private static async Task StopAll(IEnumerable<IActorRef> actors) =>
        await Task.WhenAll(actors.Select(actor => actor.GracefulStop(TimeSpan.FromSeconds(30))));

    private static void Figure(string line) => Console.WriteLine(line);

    private static void Condition(string line) => Console.Error.WriteLine("# " + line);

    private sealed class StrongBox<T>
    {
        public T Value = default!;
    }

    private sealed class Start
    {
        public static Start Instance { get; } = new();
    }

    private sealed class Ping : ReceiveActor
    {
        private long _received;
        private int _inFlight;

        public Ping(IActorRef pong, int window, StrongBox<bool> stop, TaskCompletionSource<long> finished)
        {
            Receive<Start>(_ =>
            {
                for (_inFlight = 0; _inFlight < window; _inFlight++)
                {
                    pong.Tell(Ball);
                }
            });
            ReceiveAny(ball =>
            {
                _received++;
                if (!Volatile.Read(ref stop.Value))
                {
                    pong.Tell(ball);
                }
                else if (--_inFlight == 0)
                {
                    finished.SetResult(2 * _received); // every reply is one message there and one back
                }
            });
        }
    }

    private sealed class Pong : ReceiveActor
    {
        public Pong() => ReceiveAny(ball => Sender.Tell(ball));
    }

    private sealed class Idle : ReceiveActor
    {
        public Idle(CountdownEvent started)
        {
            started.Signal();
            ReceiveAny(_ => started.Signal());
        }
    }

    private sealed class Sink : ReceiveActor
    {
        public Sink(StrongBox<long> processed) => ReceiveAny(_ => Volatile.Write(ref processed.Value, processed.Value + 1));
    }
}
