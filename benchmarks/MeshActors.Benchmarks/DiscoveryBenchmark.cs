using System.Diagnostics;
using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Testing;

namespace MeshActors.Benchmarks;

/// <summary>
/// How fast nodes see each other through Redis: 50 registry actors starting at once, a graceful leave, a crash
/// (issue 4; targets: converge &lt;= 2,000 ms, leave &lt;= 100 ms, crash &lt;= TTL + one heartbeat).
/// </summary>
/// <remarks>
/// All nodes run in one process and one actor system, each with its own registry connection, as separate
/// processes would have. The default timing is used (heartbeat 2 s, TTL 6 s), so the crash figure takes up to 8 s.
/// </remarks>
public sealed class DiscoveryBenchmark : IBenchmarkSuite
{
    private const int Nodes = 50;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    public string Name => "discovery";

    public async Task RunAsync(string[] args)
    {
        await using var redis = await LocalRedis.StartAsync();
        var options = new DiscoveryOptions { Registry = redis.ConnectionString, KeyPrefix = "bench-" + Guid.NewGuid().ToString("N")[..8] };
        Console.Error.WriteLine($"# {Nodes} nodes in one process, one Redis connection each, {redis.ConnectionString}, heartbeat {options.HeartbeatInterval.TotalMilliseconds} ms, TTL {options.Ttl.TotalMilliseconds} ms");
        await using var system = ActorSystem.Create("discovery-benchmark");
        var nodes = new Node[Nodes];
        var converged = new Countdown(Nodes);

        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < Nodes; i++)
        {
            var self = new MeshMember(Guid.NewGuid().ToString(), "bench", "127.0.0.1", 20_000 + i) { ProtocolVersion = 1 };
            var registry = new CrashableRegistry(RegistryFactory.Create(options));
            var node = nodes[i] = new Node(self, registry, system.ActorOf(RegistryActor.Props(registry, self, options), $"registry-{i}"));
            var watcher = system.ActorOf(Props.Create(() => new MembershipWatcher(node, converged)), $"watcher-{i}");
            node.Actor.Tell(new SubscribeMembers(watcher));
        }

        await converged.Task.WaitAsync(Deadline);
        Console.WriteLine($"discovery.converge.{Nodes} ms={Stopwatch.GetElapsedTime(start).TotalMilliseconds:F0}");

        var leaver = nodes[0];
        var left = WatchDown(nodes, leaver);
        start = Stopwatch.GetTimestamp();
        await leaver.Actor.Ask<LeftMesh>(LeaveMesh.Instance, Deadline);
        await left.Task.WaitAsync(Deadline);
        Console.WriteLine($"discovery.leave ms={Stopwatch.GetElapsedTime(start).TotalMilliseconds:F0}");

        var crasher = nodes[1];
        var crashed = WatchDown(nodes[1..], crasher);
        start = Stopwatch.GetTimestamp();
        crasher.Registry.Crash();
        await crashed.Task.WaitAsync(Deadline);
        Console.WriteLine($"discovery.crash ms={Stopwatch.GetElapsedTime(start).TotalMilliseconds:F0}");

        await system.Terminate();
        foreach (var node in nodes)
            await node.Registry.DisposeAsync();
    }

    private static Countdown WatchDown(Node[] nodes, Node target)
    {
        var others = nodes.Where(n => n != target).ToArray();
        var countdown = new Countdown(others.Length);
        foreach (var node in others)
            Volatile.Write(ref node.DownWanted, new DownWatch(target.Self.Id, countdown));
        return countdown;
    }

    private sealed class Node(MeshMember self, CrashableRegistry registry, IActorRef actor)
    {
        public MeshMember Self { get; } = self;

        public CrashableRegistry Registry { get; } = registry;

        public IActorRef Actor { get; } = actor;

        /// <summary>Which member's MemberDown this node's watcher should report, and to whom.</summary>
        public DownWatch? DownWanted;
    }

    private sealed record DownWatch(string Id, Countdown Countdown);

    /// <summary>Completes when <c>count</c> nodes have each reported once.</summary>
    private sealed class Countdown(int count)
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _remaining = count;

        public Task Task => _done.Task;

        public void Signal()
        {
            if (Interlocked.Decrement(ref _remaining) == 0)
                _done.TrySetResult();
        }
    }

    /// <summary>Follows one node's membership and signals when it knows every other node, and when it sees the wanted one leave.</summary>
    private sealed class MembershipWatcher : ReceiveActor
    {
        private readonly HashSet<string> _known = [];
        private bool _converged;

        public MembershipWatcher(Node node, Countdown converged)
        {
            Receive<CurrentMembers>(current =>
            {
                foreach (var member in current.Members)
                    _known.Add(member.Id);
                Check();
            });
            Receive<MemberUp>(up =>
            {
                _known.Add(up.Member.Id);
                Check();
            });
            Receive<MemberDown>(down =>
            {
                _known.Remove(down.Member.Id);
                if (Volatile.Read(ref node.DownWanted) is { } wanted && wanted.Id == down.Member.Id)
                {
                    Volatile.Write(ref node.DownWanted, null);
                    wanted.Countdown.Signal();
                }
            });
            Receive<MemberUpdated>(_ => { });

            void Check()
            {
                if (!_converged && _known.Count == Nodes - 1)
                {
                    _converged = true;
                    converged.Signal();
                }
            }
        }
    }
}
