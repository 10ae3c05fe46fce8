using System.Diagnostics;
using System.Globalization;
using MeshActors.Discovery;
using MeshActors.Messaging;

namespace MeshActors.Benchmarks;

/// <summary>
/// Topics and services between two mesh nodes in this process over real loopback HTTP/2, with the local registry:
/// what an application sees through <see cref="IMesh"/>, serialization included.
/// </summary>
/// <remarks>
/// Usage: <c>messaging [--seconds 3] [--warmup 10] [--only publish|request|request.concurrent]</c>. Each figure runs its workload for the warm-up first, and longer
/// until tiered compilation has settled (<see cref="WarmUp"/>). Prints
/// <c>messaging.publish.100B msgs/s=N</c> (one publisher, typed 100-byte messages counted in the subscriber's typed handler),
/// <c>messaging.request.100B req/s=N p50_us=N p99_us=N</c> (one caller, one request at a time, to an echo service) and
/// <c>messaging.request.concurrent req/s=N</c> (64 requests in flight), each after a line on standard error with the
/// process's CPU time and allocated bytes per operation and its garbage collections during the measurement. The publisher
/// is also the caller and dials the subscriber (fixed node ids), so that each run measures the same direction. Nodes run with their defaults:
/// a publisher waits above <see cref="Peers.PeerOptions.BackpressureBytes"/> queued, a subscriber holds back its channel above
/// <see cref="MessagingOptions.SubscriberBacklogLimit"/> waiting messages.
/// </remarks>
public sealed class MessagingBenchmark : IBenchmarkSuite
{
    private const int Concurrency = 64;
    private const string PublisherId = "00000000-0000-4000-8000-00000000000a";
    private const string SubscriberId = "00000000-0000-4000-8000-00000000000b";

    /// <inheritdoc />
    public string Name => "messaging";

    /// <inheritdoc />
    public async Task RunAsync(string[] args)
    {
        var seconds = TimeSpan.FromSeconds(Option(args, "--seconds", 3));
        var warmup = TimeSpan.FromSeconds(Option(args, "--warmup", 10));
        var only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault() ?? "";
        var root = Path.Combine(Path.GetTempPath(), "meshactors-bench-" + Guid.NewGuid().ToString("N"));
        Console.Error.WriteLine("# the publisher (also the caller) dialed the subscriber (also the echo service)");
        try
        {
            var discovery = new DiscoveryOptions { Registry = "local:" + root, HeartbeatInterval = TimeSpan.FromMilliseconds(250), Ttl = TimeSpan.FromSeconds(2) };
            // The smaller id dials (docs/architecture.md, Who dials): the publisher, as a client usually does.
            await using var publisher = await MeshNode.StartAsync(new MeshOptions { NodeName = "bench-publisher", NodeId = PublisherId, Discovery = discovery });
            await using var subscriber = await MeshNode.StartAsync(new MeshOptions { NodeName = "bench-subscriber", NodeId = SubscriberId, Discovery = discovery });
            using var echo = subscriber.AddService<Tick, Tick>("echo", (tick, _, _) => new ValueTask<Tick>(tick));
            await echo.Ready;
            await WaitAsync(() => publisher.MessagingLayer.Routes.Current.Service("echo") is not null, "the echo service to be announced");

            if (only is "" or "publish")
                Console.WriteLine(await PublishAsync(publisher, subscriber, warmup, seconds));
            if (only is "" or "request")
                Console.WriteLine(await SequentialRequestsAsync(publisher, warmup, seconds));
            if (only is "" or "request.concurrent")
                Console.WriteLine(await ConcurrentRequestsAsync(publisher, warmup, seconds));
        }
        finally
        {
            if (Directory.Exists(root))
                Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<string> PublishAsync(MeshNode publisher, MeshNode subscriber, TimeSpan warmup, TimeSpan duration)
    {
        long received = 0;
        using var subscription = subscriber.Subscribe<Tick>("ticks", (_, _) =>
        {
            received++; // one message at a time per subscription; read with Volatile below
            return default;
        });
        await subscription.Ready;
        await publisher.WaitForSubscriberAsync("ticks", TimeSpan.FromSeconds(10));

        var tick = Tick.Of100Bytes();
        using var stop = new CancellationTokenSource();
        var publishing = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                for (var i = 0; i < 1000; i++)
                    await publisher.PublishAsync("ticks", tick);
            }
        });

        // Warm up (JIT tiering, buffers), then count what the handler receives during the measured window.
        await WarmUp.WaitAsync("publish", warmup);
        var measurement = Measurement.Start(); // first: it probes the cores for 40 ms, which must not count
        var before = Volatile.Read(ref received);
        await Task.Delay(duration);
        var count = Volatile.Read(ref received) - before;
        var elapsed = measurement.Stop("publish", count);
        await stop.CancelAsync();
        await publishing;
        return string.Create(CultureInfo.InvariantCulture, $"messaging.publish.100B msgs/s={count / elapsed.TotalSeconds:0}");
    }

    private static async Task<string> SequentialRequestsAsync(MeshNode caller, TimeSpan warmup, TimeSpan duration)
    {
        var tick = Tick.Of100Bytes();
        var warming = WarmUp.WaitAsync("request", warmup);
        while (!warming.IsCompleted)
            await caller.RequestAsync<Tick, Tick>("echo", tick);

        var latencies = new List<double>(1 << 20);
        var measurement = Measurement.Start();
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration)
        {
            var started = Stopwatch.GetTimestamp();
            await caller.RequestAsync<Tick, Tick>("echo", tick);
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
        }

        var elapsed = measurement.Stop("request", latencies.Count);
        latencies.Sort();
        return string.Create(CultureInfo.InvariantCulture,
            $"messaging.request.100B req/s={latencies.Count / elapsed.TotalSeconds:0} p50_us={Percentile(latencies, 0.50):0} p99_us={Percentile(latencies, 0.99):0}");
    }

    private static async Task<string> ConcurrentRequestsAsync(MeshNode caller, TimeSpan warmup, TimeSpan duration)
    {
        var tick = Tick.Of100Bytes();
        long completed = 0;
        var measuring = false;
        using var stop = new CancellationTokenSource();
        var callers = Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await caller.RequestAsync<Tick, Tick>("echo", tick);
                if (Volatile.Read(ref measuring))
                    Interlocked.Increment(ref completed);
            }
        })).ToArray();

        await WarmUp.WaitAsync("request.concurrent", warmup);
        var measurement = Measurement.Start();
        Volatile.Write(ref measuring, true);
        await Task.Delay(duration);
        var count = Interlocked.Read(ref completed);
        var elapsed = measurement.Stop("request.concurrent", count);
        await stop.CancelAsync();
        await Task.WhenAll(callers);
        return string.Create(CultureInfo.InvariantCulture, $"messaging.request.concurrent req/s={count / elapsed.TotalSeconds:0}");
    }

    private static double Option(string[] args, string name, double fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? double.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)(sorted.Count * p))];

    private static async Task WaitAsync(Func<bool> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(15))
                throw new TimeoutException($"Gave up waiting for {what}.");
            await Task.Delay(10);
        }
    }

    /// <summary>
    /// Wall time of a measured window, and what the process spent in it: CPU and allocations per operation,
    /// collections, pauses, and where the cores were before and after (<see cref="CorePlacement"/>).
    /// </summary>
    private readonly record struct Measurement(string Placement, long Started, TimeSpan Cpu, long Allocated, int Gen0, int Gen2, TimeSpan Paused)
    {
        public static Measurement Start()
        {
            var placement = CorePlacement.Describe();
            return new(placement, Stopwatch.GetTimestamp(), Process.GetCurrentProcess().TotalProcessorTime, GC.GetTotalAllocatedBytes(),
                GC.CollectionCount(0), GC.CollectionCount(2), GC.GetTotalPauseDuration());
        }

        public TimeSpan Stop(string figure, long operations)
        {
            var elapsed = Stopwatch.GetElapsedTime(Started);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - Cpu;
            var perOperation = Math.Max(1, operations);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"# {figure}: {cpu.TotalMicroseconds / perOperation:0.00} us CPU/op, {(GC.GetTotalAllocatedBytes() - Allocated) / perOperation} B/op allocated, {GC.CollectionCount(0) - Gen0} gen0 and {GC.CollectionCount(2) - Gen2} gen2 GCs, paused {(GC.GetTotalPauseDuration() - Paused) / elapsed:P0} of {elapsed.TotalSeconds:0.0} s; cores {Placement}, then {CorePlacement.Describe()}"));
            return elapsed;
        }
    }

    /// <summary>The benchmark's message: 100 bytes of JSON.</summary>
    public sealed record Tick(long Seq, string Body)
    {
        public static Tick Of100Bytes() => new(1234567, new string('x', 100 - """{"seq":1234567,"body":""}""".Length));
    }
}
