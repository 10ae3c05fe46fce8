using System.Text.RegularExpressions;

namespace MeshActors.Cli.Tests;

/// <summary><c>mesh speedtest</c> across two processes: the run completes and the sender reports what the receiver counted.</summary>
public sealed partial class SpeedtestSpec : LocalMeshSpec
{
    [Theory]
    [InlineData(100)]
    [InlineData(1024 * 1024)]
    public async Task Speedtest_must_end_with_the_receivers_figures(int messageSize)
    {
        var receiver = Cli.Start("speedtest", "recv", "--topic", "bench", "--runs", "1");
        await receiver.WaitForLineAsync("waiting for speed-test senders on topic 'bench'");

        var (exitCode, sender) = await Cli.RunAsync("speedtest", "send", "--topic", "bench", "--message-size", messageSize.ToString(), "--seconds", "2", "--warmup", "0.5");

        Assert.True(exitCode == 0, sender.Transcript);
        Assert.Contains("dialed (HTTP/2 re", sender.Transcript, StringComparison.Ordinal);
        var figures = ResultLine().Match(sender.Stdout[^1]);
        Assert.True(figures.Success, sender.Transcript);
        Assert.True(long.Parse(figures.Groups["mps"].Value) > 0, sender.Transcript);
        Assert.Equal(0, await receiver.WaitForExitAsync(TestTimeouts.Long));
        await receiver.WaitForLineAsync(line => line.StartsWith("run=", StringComparison.Ordinal) && line.EndsWith(sender.Stdout[^1], StringComparison.Ordinal));
    }

    [Fact]
    public async Task Speedtest_must_measure_a_run_of_a_single_message_from_its_send_to_its_arrival()
    {
        var receiver = Cli.Start("speedtest", "recv", "--topic", "single", "--runs", "1");
        await receiver.WaitForLineAsync("waiting for speed-test senders on topic 'single'");

        // An 8 MiB message takes longer to send than the measured phase lasts: exactly one is measured.
        var (exitCode, sender) = await Cli.RunAsync("speedtest", "send", "--topic", "single", "--message-size", "8388608", "--seconds", "0.000001", "--warmup", "0");

        Assert.True(exitCode == 0, sender.Transcript);
        Assert.Contains("sent=1 received=1", sender.Transcript, StringComparison.Ordinal);
        var figures = ResultLine().Match(sender.Stdout[^1]);
        Assert.True(figures.Success, sender.Transcript);
        Assert.True(long.Parse(figures.Groups["mps"].Value) > 0, sender.Transcript); // not mps=0 for a message that arrived
        Assert.Equal(0, await receiver.WaitForExitAsync(TestTimeouts.Long));
    }

    [Fact]
    public async Task Speedtest_must_refuse_messages_smaller_than_its_header()
    {
        var (exitCode, sender) = await Cli.RunAsync("speedtest", "send", "--message-size", "8");

        Assert.Equal(1, exitCode);
        Assert.Equal("[stderr] mesh: --message-size must be at least 16 bytes (the timestamp header), not 8.", sender.Transcript.Trim());
    }

    [Fact]
    public async Task Speedtest_must_refuse_messages_larger_than_a_frame()
    {
        var (exitCode, sender) = await Cli.RunAsync("speedtest", "send", "--message-size", "17000000");

        Assert.Equal(1, exitCode);
        Assert.Equal("[stderr] mesh: --message-size must be at most 16777216 bytes (the largest frame), not 17000000.", sender.Transcript.Trim());
    }

    [Fact]
    public async Task Speedtest_send_must_stop_at_once_on_SIGTERM_after_its_receiver_left_without_flooding_its_output()
    {
        var receiver = Cli.Start("speedtest", "recv", "--topic", "gone");
        await receiver.WaitForLineAsync("waiting for speed-test senders on topic 'gone'");
        // A phase far longer than the test: the sender ends only if it honours the signal.
        var sender = Cli.Start("speedtest", "send", "--topic", "gone", "--seconds", "600", "--warmup", "0");
        await sender.WaitForLineAsync("sending t=");
        receiver.Terminate();
        Assert.Equal(0, await receiver.WaitForExitAsync());
        // Two more progress lines: by then the sender publishes to a topic nobody subscribes to, which completes at once.
        var progressLines = sender.Stdout.Count(IsProgress);
        await sender.WaitForLineAsync(line => IsProgress(line) && sender.Stdout.Count(IsProgress) >= progressLines + 2);

        sender.Terminate();

        Assert.Equal(130, await sender.WaitForExitAsync());
        // One progress line a second: a loop spinning on a cancelled delay repeats the same t= thousands of times.
        var times = sender.Stdout.Where(IsProgress).Select(line => line.Split(' ')[1]).ToList();
        Assert.True(times.Distinct().Count() == times.Count, sender.Transcript);
    }

    private static bool IsProgress(string line) => line.StartsWith("sending t=", StringComparison.Ordinal) || line.StartsWith("warm-up t=", StringComparison.Ordinal);

    [GeneratedRegex(@"^mps=(?<mps>\d+) mbps=\d+ p50_us=\d+ p99_us=\d+$")]
    private static partial Regex ResultLine();
}
