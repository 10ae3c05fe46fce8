using System.Numerics;

namespace MeshActors.Cli.Speedtest;

/// <summary>A lock-free histogram of microsecond latencies with about 1.6% precision, for percentiles over millions of samples without storing them.</summary>
/// <remarks>
/// Values below 128 get a bucket each; above, each power of two is split into 64 buckets (HdrHistogram's
/// layout with 6 significant bits), so 3,712 counters cover everything up to 2^62 µs.
/// </remarks>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 6;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int ExactValues = 2 * SubBuckets;

    private readonly long[] _counts = new long[ExactValues + (62 - SubBucketBits) * SubBuckets];
    private long _total;

    public long Count => Interlocked.Read(ref _total);

    public void Record(long microseconds)
    {
        Interlocked.Increment(ref _counts[IndexOf(Math.Max(0, microseconds))]);
        Interlocked.Increment(ref _total);
    }

    /// <summary>The smallest recorded value that at least <paramref name="percentile"/> percent of the samples do not exceed (bucket precision); 0 when empty.</summary>
    public long Percentile(double percentile)
    {
        var total = Count;
        if (total == 0)
            return 0;
        var rank = Math.Max(1, (long)Math.Ceiling(total * percentile / 100));
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += Interlocked.Read(ref _counts[i]);
            if (seen >= rank)
                return ValueOf(i);
        }
        return ValueOf(_counts.Length - 1);
    }

    internal static int IndexOf(long value)
    {
        if (value < ExactValues)
            return (int)value;
        var shift = 63 - BitOperations.LeadingZeroCount((ulong)value) - SubBucketBits;
        return shift * SubBuckets + (int)(value >> shift);
    }

    /// <summary>The highest value that falls in bucket <paramref name="index"/>, so a percentile never understates a latency.</summary>
    internal static long ValueOf(int index)
    {
        if (index < ExactValues)
            return index;
        var shift = index / SubBuckets - 1;
        var mantissa = index % SubBuckets + SubBuckets;
        return ((long)(mantissa + 1) << shift) - 1;
    }
}
