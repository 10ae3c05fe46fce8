using MeshActors.Cli.Speedtest;

namespace MeshActors.Cli.Tests;

public sealed class LatencyHistogramSpec
{
    [Fact]
    public void Every_value_must_land_in_a_bucket_whose_bound_is_within_two_percent_above_it()
    {
        for (long value = 0; value < 5_000_000; value = value < 1000 ? value + 1 : value * 101 / 100)
        {
            var bound = LatencyHistogram.ValueOf(LatencyHistogram.IndexOf(value));
            Assert.InRange(bound, value, Math.Max(value, (long)(value * 1.02)));
        }
        Assert.Equal(long.MaxValue, LatencyHistogram.ValueOf(LatencyHistogram.IndexOf(long.MaxValue)));
    }

    [Fact]
    public void Percentiles_must_match_the_recorded_distribution()
    {
        var histogram = new LatencyHistogram();
        for (var value = 1; value <= 10_000; value++)
            histogram.Record(value);

        Assert.InRange(histogram.Percentile(50), 5_000, 5_100);
        Assert.InRange(histogram.Percentile(99), 9_900, 10_100);
        Assert.Equal(1, histogram.Percentile(0));
    }

    [Fact]
    public void An_empty_histogram_and_negative_clock_skew_must_read_as_zero()
    {
        var histogram = new LatencyHistogram();
        Assert.Equal(0, histogram.Percentile(99));

        histogram.Record(-5);
        Assert.Equal(0, histogram.Percentile(50));
    }
}
