using System.Diagnostics;
using System.Globalization;
using MeshActors.Discovery;
using MeshActors.Replication;

namespace MeshActors.Benchmarks;

/// <summary>
/// A replicated dictionary on three mesh nodes in this process over real loopback HTTP/2, with the local registry: how
/// many writes one node makes that both other replicas show.
/// </summary>
/// <remarks>
/// Usage: <c>replication [--seconds 3] [--warmup 5]</c>. One node writes 100-character strings to 1,000 keys in turn
/// (<see cref="ReplicatedDictionary{T}.SetAsync"/>), one write at a time (<c>replication.set.sequential</c>) or 64 at a
/// time (<c>replication.set.concurrent</c>); the clock stops when both other replicas show the last write. Prints
/// <c>replication.set.&lt;mode&gt; sets/s=N</c>.
/// </remarks>
public sealed class ReplicationBenchmark : IBenchmarkSuite
{
    private const int Keys = 1000;

    /// <inheritdoc />
    public string Name => "replication";

    /// <inheritdoc />
    public async Task RunAsync(string[] args)
    {
        var seconds = TimeSpan.FromSeconds(Option(args, "--seconds", 3));
        var warmup = TimeSpan.FromSeconds(Option(args, "--warmup", 5));
        var root = Path.Combine(Path.GetTempPath(), "meshactors-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            var discovery = new DiscoveryOptions { Registry = "local:" + root, HeartbeatInterval = TimeSpan.FromMilliseconds(250), Ttl = TimeSpan.FromSeconds(2) };
            await using var writer = await MeshNode.StartAsync(new MeshOptions { NodeName = "bench-writer", Discovery = discovery });
            await using var peer1 = await MeshNode.StartAsync(new MeshOptions { NodeName = "bench-peer", Discovery = discovery });
            await using var peer2 = await MeshNode.StartAsync(new MeshOptions { NodeName = "bench-peer", Discovery = discovery });
            await WaitAsync(() => writer.DescribePeers().Count(peer => peer.IsConnected) == 2, "the writer to connect to both peers");
            await using var atWriter = await writer.OpenDictionaryAsync<string>("bench");
            await using var atPeer1 = await peer1.OpenDictionaryAsync<string>("bench");
            await using var atPeer2 = await peer2.OpenDictionaryAsync<string>("bench");
            await WaitAsync(() => writer.MessagingLayer.Routes.Current.Topic("$dict/bench")?.Groups.Sum(group => group.Count) == 3, "both replicas to be routed");

            foreach (var (mode, inFlight) in new[] { ("sequential", 1), ("concurrent", 64) })
            {
                await WriteAsync(atWriter, [atPeer1, atPeer2], inFlight, warmup);
                var (sets, elapsed) = await WriteAsync(atWriter, [atPeer1, atPeer2], inFlight, seconds);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"replication.set.{mode} sets/s={sets / elapsed.TotalSeconds:0} in_flight={inFlight} replicas=2"));
            }
        }
        finally
        {
            if (Directory.Exists(root))
                Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Writes for <paramref name="duration"/>, then waits until every peer shows the last write; the count and the time to that point.</summary>
    private static async Task<(long Sets, TimeSpan Elapsed)> WriteAsync(ReplicatedDictionary<string> writer, ReplicatedDictionary<string>[] peers, int inFlight, TimeSpan duration)
    {
        var body = new string('x', 100);
        long sets = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(lane => Task.Run(async () =>
        {
            for (var i = lane; clock.Elapsed < duration; i += inFlight)
            {
                await writer.SetAsync("k" + (i % Keys).ToString(CultureInfo.InvariantCulture), body + i.ToString(CultureInfo.InvariantCulture));
                Interlocked.Increment(ref sets);
            }
        })));

        var last = "end-" + Guid.NewGuid().ToString("N");
        await writer.SetAsync("last", last);
        await WaitAsync(() => peers.All(peer => peer.TryGetValue("last", out var seen) && seen == last), "the peers to show the last write");
        return (sets + 1, clock.Elapsed);
    }

    private static double Option(string[] args, string name, double fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? double.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static async Task WaitAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
                throw new TimeoutException("Timed out waiting for " + what);
            await Task.Delay(1);
        }
    }
}
