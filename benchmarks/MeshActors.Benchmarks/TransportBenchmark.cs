using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Transport;

namespace MeshActors.Benchmarks;

/// <summary>
/// The data plane between two nodes: two actor systems in this process, each with its peer manager, connected over
/// real loopback HTTP/2 the way discovery connects them. Every figure counts decoded envelopes handed to the receiving
/// node's envelope handler.
/// </summary>
/// <remarks>
/// Usage: <c>transport [--seconds 2] [--warmup 3] [--only oneway.100B|oneway.1MB|duplex.100B|rtt.100B] [--flush BYTES]</c>. Prints <c>transport.oneway.100B msgs/s</c>, <c>transport.oneway.1MB MB/s</c>,
/// <c>transport.duplex.100B msgs/s</c> (both directions at once, summed) and <c>transport.rtt.100B p50_us p99_us</c>
/// (one message in flight, answered by the other node's handler). A 100 B message is a <c>pub</c> whose <c>data</c> is
/// 100 bytes of JSON; a 1 MB message is a <c>pub</c> with a 1 MiB binary attachment. Senders reuse one envelope and
/// use <see cref="IPeer.SendAsync"/> (the default overflow policy waits for room). One-way figures are the lower of
/// the two directions (dialer to listener, and back), each printed to standard error.
/// </remarks>
public sealed class TransportBenchmark : IBenchmarkSuite
{
    private static readonly byte[] Data100 = Encoding.UTF8.GetBytes(
        "{\"id\":123456,\"sym\":\"ABCD\",\"px\":101.25,\"qty\":100,\"side\":\"buy\",\"venue\":\"XNAS\",\"note\":\"a small order.\"}");

    /// <inheritdoc />
    public string Name => "transport";

    /// <inheritdoc />
    public async Task RunAsync(string[] args)
    {
        var seconds = double.Parse(Option(args, "--seconds") ?? "2", CultureInfo.InvariantCulture);
        var only = Option(args, "--only") ?? "";
        var warmup = TimeSpan.FromSeconds(double.Parse(Option(args, "--warmup") ?? "3", CultureInfo.InvariantCulture));
        var options = new PeerOptions();
        if (Option(args, "--flush") is { } flush)
        {
            options = options with { FlushThresholdBytes = int.Parse(flush, CultureInfo.InvariantCulture) };
        }

        var duration = TimeSpan.FromSeconds(seconds);
        await using var a = await BenchNode.StartAsync("a", options);
        await using var b = await BenchNode.StartAsync("b", options);
        a.See(b);
        b.See(a);
        var (toB, toA) = (await a.PeerAsync(b.Id), await b.PeerAsync(a.Id));
        Console.Error.WriteLine($"# {seconds} s per figure, flush threshold {options.FlushThresholdBytes} B; a dialed b (a's id is smaller)");

        var small = new Envelope.Pub("bench", Data100);
        var large = new Envelope.Pub("bench", "{}"u8.ToArray()) { Attachment = new byte[1024 * 1024] };

        // Warm-up, both ways, small and large: buffers, and JIT tiering, which still compiled during the first figure
        // after a fixed half second each way.
        var warming = WarmUp.WaitAsync("transport", warmup);
        while (!warming.IsCompleted)
        {
            foreach (var envelope in new[] { small, large })
            {
                await OneWayAsync(toB, b.Handler, envelope, TimeSpan.FromSeconds(0.5));
                await OneWayAsync(toA, a.Handler, envelope, TimeSpan.FromSeconds(0.5));
            }
        }

        if ("oneway.100B".StartsWith(only, StringComparison.Ordinal))
        {
            var dialerToListener = await OneWayAsync(toB, b.Handler, small, duration);
            var listenerToDialer = await OneWayAsync(toA, a.Handler, small, duration);
            Console.Error.WriteLine(Invariant($"# oneway.100B dialer->listener {dialerToListener.PerSecond:0} msgs/s ({dialerToListener}), listener->dialer {listenerToDialer.PerSecond:0} msgs/s ({listenerToDialer})"));
            Console.WriteLine(Invariant($"transport.oneway.100B msgs/s={Math.Min(dialerToListener.PerSecond, listenerToDialer.PerSecond):0}"));
        }

        if ("oneway.1MB".StartsWith(only, StringComparison.Ordinal))
        {
            var largeToB = await OneWayAsync(toB, b.Handler, large, duration);
            var largeToA = await OneWayAsync(toA, a.Handler, large, duration);
            Console.Error.WriteLine(Invariant($"# oneway.1MB dialer->listener {largeToB.PerSecond * 1.048576:0} MB/s ({largeToB}), listener->dialer {largeToA.PerSecond * 1.048576:0} MB/s ({largeToA})"));
            Console.WriteLine(Invariant($"transport.oneway.1MB MB/s={Math.Min(largeToB.PerSecond, largeToA.PerSecond) * 1.048576:0}"));
        }

        if ("duplex.100B".StartsWith(only, StringComparison.Ordinal))
        {
            var duplex = await Task.WhenAll(OneWayAsync(toB, b.Handler, small, duration), OneWayAsync(toA, a.Handler, small, duration));
            Console.Error.WriteLine(Invariant($"# duplex.100B dialer->listener {duplex[0].PerSecond:0} msgs/s ({duplex[0]}), listener->dialer {duplex[1].PerSecond:0} msgs/s ({duplex[1]})"));
            Console.WriteLine(Invariant($"transport.duplex.100B msgs/s={duplex[0].PerSecond + duplex[1].PerSecond:0}"));
        }

        if ("rtt.100B".StartsWith(only, StringComparison.Ordinal))
        {
            var (p50, p99) = await RoundTripsAsync(a, b, toB, small, duration);
            Console.WriteLine(Invariant($"transport.rtt.100B p50_us={p50:0.0} p99_us={p99:0.0}"));
        }

        Console.Error.WriteLine($"# a: {a.Directory.Totals}");
        Console.Error.WriteLine($"# b: {b.Directory.Totals}");
    }

    /// <summary>Sends <paramref name="envelope"/> from one thread as fast as the peer takes it, for <paramref name="duration"/>; counts what the receiver's handler got.</summary>
    private static async Task<Rate> OneWayAsync(IPeer to, CountingHandler receiver, Envelope envelope, TimeSpan duration)
    {
        var stop = false;
        var sender = Task.Run(async () =>
        {
            while (!Volatile.Read(ref stop))
            {
                for (var i = 0; i < 1000; i++)
                {
                    await to.SendAsync(envelope);
                }
            }
        });

        // Measured once the stream runs, so that filling the queue and the windows does not count.
        await Task.Delay(TimeSpan.FromMilliseconds(200));
        var placement = CorePlacement.Describe();
        var start = receiver.Count;
        var (allocated, gen0, gen2) = (GC.GetTotalAllocatedBytes(precise: false), GC.CollectionCount(0), GC.CollectionCount(2));
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await Task.Delay(duration);
        var delivered = receiver.Count - start;
        var elapsed = clock.Elapsed;
        var rate = new Rate(delivered / elapsed.TotalSeconds, (GC.GetTotalAllocatedBytes(precise: false) - allocated) / (double)delivered,
            (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / delivered, GC.CollectionCount(0) - gen0, GC.CollectionCount(2) - gen2,
            placement + ", then " + CorePlacement.Describe());
        Volatile.Write(ref stop, true);
        await sender;
        await WaitForQuietAsync(receiver);
        return rate;
    }

    // Lets the queue drain before the next figure starts.
    private static async Task WaitForQuietAsync(CountingHandler receiver)
    {
        var last = -1L;
        while (receiver.Count != last)
        {
            last = receiver.Count;
            await Task.Delay(50);
        }
    }

    private static async Task<(double P50, double P99)> RoundTripsAsync(BenchNode a, BenchNode b, IPeer toB, Envelope envelope, TimeSpan duration)
    {
        b.Handler.Echo = true;
        var placement = CorePlacement.Describe();
        var samples = new List<double>(1 << 20);
        await Task.Factory.StartNew(() =>
        {
            var answered = a.Handler.Answered;
            var clock = Stopwatch.StartNew();
            var warmUntil = TimeSpan.FromSeconds(0.5);
            while (clock.Elapsed < duration + warmUntil)
            {
                var sent = Stopwatch.GetTimestamp();
                answered.Reset();
                if (!toB.TrySend(envelope) || !answered.Wait(TimeSpan.FromSeconds(10)))
                {
                    throw new InvalidOperationException("A round trip was not answered: the peer's queue refused the message, or its answer never came.");
                }

                if (clock.Elapsed > warmUntil)
                {
                    samples.Add(Stopwatch.GetElapsedTime(sent).TotalMicroseconds);
                }
            }
        }, TaskCreationOptions.LongRunning);
        b.Handler.Echo = false;
        samples.Sort();
        Console.Error.WriteLine($"# rtt: {samples.Count} round trips, one in flight; cores {placement}, then {CorePlacement.Describe()}");
        return (samples[samples.Count / 2], samples[(int)(samples.Count * 0.99)]);
    }

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Envelopes delivered per second, with what the process spent per envelope (both nodes, all threads: CPU time
    /// and allocation) and the collections meanwhile. CPU per envelope varies less than the rate on a shared machine.
    /// </summary>
    private readonly record struct Rate(double PerSecond, double BytesPerMessage, double CpuMicrosecondsPerMessage, int Gen0, int Gen2, string Placement)
    {
        public override string ToString() =>
            Invariant($"{CpuMicrosecondsPerMessage:0.###} us CPU/msg, {BytesPerMessage:0} B allocated/msg, {Gen0} gen0 and {Gen2} gen2 collections, cores {Placement}");
    }

    /// <summary>The application side of a benchmark node: counts envelopes, and in the round-trip figure answers each one.</summary>
    private sealed class CountingHandler : IPeerEnvelopeHandler
    {
        private long _count;

        public long Count => Volatile.Read(ref _count);

        public volatile bool Echo;

        public ManualResetEventSlim Answered { get; } = new(false, spinCount: 100);

        public void OnPeerConnected(IPeer peer)
        {
        }

        public ValueTask OnEnvelope(IPeer peer, Envelope envelope)
        {
            // Only the channel's read loop calls this, one envelope at a time: a plain increment suffices.
            Volatile.Write(ref _count, _count + 1);
            if (Echo)
            {
                peer.TrySend(envelope);
            }
            else
            {
                Answered.Set();
            }

            return default;
        }

        public void OnPeerDisconnected(IPeer peer, Exception? reason)
        {
        }
    }

    /// <summary>One node: an actor system and its peer manager on an ephemeral loopback port.</summary>
    private sealed class BenchNode(ActorSystem system, IActorRef manager, PeerDirectory directory, CountingHandler handler, string id, DnsEndPoint address) : IAsyncDisposable
    {
        public string Id { get; } = id;

        public DnsEndPoint Address { get; } = address;

        public PeerDirectory Directory { get; } = directory;

        public CountingHandler Handler { get; } = handler;

        public static async Task<BenchNode> StartAsync(string name, PeerOptions options)
        {
            var id = $"{name}-{Guid.NewGuid():N}";
            var system = ActorSystem.Create(name);
            var handler = new CountingHandler();
            var directory = new PeerDirectory();
            var manager = system.SystemActorOf(
                PeerManagerActor.Props(id, name, options, new ProtocolOptions(), new TransportOptions(), handler, directory), "peers");
            var endpoint = await manager.Ask<PeerManagerActor.ListenEndpoint>(PeerManagerActor.GetListenEndpoint.Instance);
            return new BenchNode(system, manager, directory, handler, id, endpoint.Advertised);
        }

        public void See(BenchNode other) =>
            system.EventStream.Publish(new MemberUp(new MeshMember(other.Id, "bench", other.Address.Host, other.Address.Port) { ProtocolVersion = WireProtocol.Version }));

        public async Task<IPeer> PeerAsync(string nodeId)
        {
            IPeer? peer;
            while (!(Directory.TryGet(nodeId, out peer) && peer.IsConnected))
            {
                await Task.Delay(10);
            }

            return peer;
        }

        public async ValueTask DisposeAsync()
        {
            await manager.Ask<PeerManagerActor.PeersStopped>(PeerManagerActor.StopPeers.Instance, TimeSpan.FromSeconds(10));
            await system.Terminate();
        }
    }
}
