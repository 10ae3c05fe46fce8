using System.Diagnostics;
using MeshActors.Cli.Speedtest;

namespace MeshActors.Cli.Tests;

public sealed class SpeedtestTallySpec
{
    [Fact]
    public void Tally_must_count_only_measured_messages_of_the_current_run()
    {
        var tally = new SpeedtestTally();
        tally.Begin(run: 7);
        var now = Stopwatch.GetTimestamp();

        tally.Record(SpeedtestPayload.Create(100, now, run: 7, measured: false));
        tally.Record(SpeedtestPayload.Create(100, now, run: 6, measured: true));
        tally.Record(new byte[8]);
        tally.Record(SpeedtestPayload.Create(100, now, run: 7, measured: true));
        tally.Record(SpeedtestPayload.Create(300, now, run: 7, measured: true));

        var report = tally.Report();
        Assert.Equal(2, report.Received);
        Assert.Equal(400, report.Bytes);
    }

    [Fact]
    public void A_new_run_must_start_from_zero()
    {
        var tally = new SpeedtestTally();
        tally.Begin(run: 1);
        tally.Record(SpeedtestPayload.Create(16, Stopwatch.GetTimestamp(), run: 1, measured: true));

        tally.Begin(run: 2);

        Assert.Equal(new SpeedtestReport(0, 0, 0, 0, 0), tally.Report());
    }

    [Fact]
    public void The_result_line_must_have_exactly_the_specified_shape()
    {
        var report = new SpeedtestReport(Received: 2_000_000, Bytes: 200_000_000, ElapsedMicroseconds: 2_000_000, P50Microseconds: 85, P99Microseconds: 412);

        Assert.Equal("mps=1000000 mbps=100 p50_us=85 p99_us=412", report.ResultLine);
    }
}
