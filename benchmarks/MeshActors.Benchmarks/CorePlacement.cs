using System.Diagnostics;
using System.Runtime.InteropServices;

namespace MeshActors.Benchmarks;

/// <summary>
/// How far apart the first two cores are right now: the round trip of one cache line between a thread pinned to
/// core 0 and a thread pinned to core 1.
/// </summary>
/// <remarks>
/// The project's machine is a virtual machine on an AMD EPYC host. Its hypervisor moves the two virtual cores
/// between host cores that share a level-3 cache and cores on different chiplets, every 5-30 s. A cache line then
/// takes about 52 ns or about 340 ns to go there and back. Each message handed from one thread to another pays that
/// distance, so the figures measured in the two placements differ by 25-40%. Knowing the placement makes a figure
/// comparable with another. The probe takes the fastest of many short batches: the benchmark's own threads still
/// run on both cores, and a batch they preempt is slow for that reason, not because of the distance.
/// </remarks>
internal static class CorePlacement
{
    private const int RoundTripsPerBatch = 200;
    private static readonly TimeSpan ProbeTime = TimeSpan.FromMilliseconds(40);

    /// <summary>Round trips above this are the far placement; the two placements measured 47-124 and 329-367 ns.</summary>
    private const double FarNanoseconds = 200;

    /// <summary>"near (52 ns)" or "far (338 ns)"; "unknown" off Linux or with one core.</summary>
    public static string Describe() => RoundTripNanoseconds() is { } ns
        ? FormattableString.Invariant($"{(ns > FarNanoseconds ? "far" : "near")} ({ns:0} ns)")
        : "unknown";

    /// <summary>The fastest cache-line round trip between cores 0 and 1 over a short probe, or null when it cannot be measured.</summary>
    public static double? RoundTripNanoseconds()
    {
        if (!OperatingSystem.IsLinux() || Environment.ProcessorCount < 2)
            return null;

        // The asker writes an odd number, the answerer the next even one; -1 ends the probe, from either side.
        var line = new PaddedLine();
        double? best = null;
        var answering = new Thread(() =>
        {
            if (!PinTo(1))
            {
                Volatile.Write(ref line.Value, -1);
                return;
            }

            while (Volatile.Read(ref line.Value) is var value and >= 0)
            {
                if ((value & 1) == 1)
                    Volatile.Write(ref line.Value, value + 1);
            }
        }) { IsBackground = true, Name = "placement probe, core 1" };

        var asking = new Thread(() =>
        {
            if (!PinTo(0))
                return;
            var probe = Stopwatch.StartNew();
            for (var value = 0L; probe.Elapsed < ProbeTime;)
            {
                var started = Stopwatch.GetTimestamp();
                for (var i = 0; i < RoundTripsPerBatch; i++)
                {
                    Volatile.Write(ref line.Value, ++value);
                    long seen;
                    while ((seen = Volatile.Read(ref line.Value)) == value)
                    {
                    }

                    if (seen < 0)
                        return;
                    value = seen;
                }

                var ns = Stopwatch.GetElapsedTime(started).TotalNanoseconds / RoundTripsPerBatch;
                best = best is null ? ns : Math.Min(best.Value, ns);
            }
        }) { IsBackground = true, Name = "placement probe, core 0" };

        answering.Start();
        asking.Start();
        asking.Join();
        Volatile.Write(ref line.Value, -1);
        answering.Join();
        return best;
    }

    private static bool PinTo(int core)
    {
        var mask = 1UL << core;
        return SchedSetAffinity(0, sizeof(ulong), ref mask) == 0;
    }

    // Linux: pid 0 is the calling thread.
    [DllImport("libc", EntryPoint = "sched_setaffinity")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int SchedSetAffinity(int pid, nint cpuSetSize, ref ulong mask);

    /// <summary>One value alone on its cache line, so that nothing else travels with it.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private sealed class PaddedLine
    {
        [FieldOffset(64)]
        public long Value;
    }
}
