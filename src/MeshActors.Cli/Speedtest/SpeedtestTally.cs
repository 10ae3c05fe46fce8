using System.Diagnostics;

namespace MeshActors.Cli.Speedtest;

/// <summary>The receiver's count of one run: messages, bytes, window (first measured send to last arrival) and one-way latencies of the measured phase.</summary>
/// <remarks>Lock-free: a handful of uncontended interlocked operations per message, whatever thread the subscription calls back on.</remarks>
internal sealed class SpeedtestTally
{
    private int _run;
    private long _received;
    private long _bytes;
    private long _firstSent;
    private long _lastArrival;
    private LatencyHistogram _latency = new();

    public long Received => Interlocked.Read(ref _received);

    /// <summary>The run being counted; 0 before the first.</summary>
    public int Run => Volatile.Read(ref _run);

    /// <summary>When the last measured message arrived (a <see cref="Stopwatch.GetTimestamp"/> reading); 0 before the first.</summary>
    public long LastArrival => Interlocked.Read(ref _lastArrival);

    public void Begin(int run)
    {
        Volatile.Write(ref _run, 0);
        Interlocked.Exchange(ref _latency, new LatencyHistogram());
        Interlocked.Exchange(ref _received, 0);
        Interlocked.Exchange(ref _bytes, 0);
        Interlocked.Exchange(ref _firstSent, 0);
        Interlocked.Exchange(ref _lastArrival, 0);
        Volatile.Write(ref _run, run);
    }

    public void Record(ReadOnlySpan<byte> payload)
    {
        if (!SpeedtestPayload.TryRead(payload, out var sentAt, out var run, out var measured) || !measured || run != Volatile.Read(ref _run))
            return;
        var now = Stopwatch.GetTimestamp();
        Interlocked.CompareExchange(ref _firstSent, sentAt, 0); // one sender, in order: the first to arrive was sent first
        Interlocked.Exchange(ref _lastArrival, now);
        Interlocked.Increment(ref _received);
        Interlocked.Add(ref _bytes, payload.Length);
        Volatile.Read(ref _latency).Record(SpeedtestPayload.Microseconds(sentAt, now));
    }

    public SpeedtestReport Report()
    {
        var latency = Volatile.Read(ref _latency);
        var first = Interlocked.Read(ref _firstSent);
        return new SpeedtestReport(
            Received,
            Interlocked.Read(ref _bytes),
            first == 0 ? 0 : SpeedtestPayload.Microseconds(first, LastArrival),
            latency.Percentile(50),
            latency.Percentile(99));
    }
}
