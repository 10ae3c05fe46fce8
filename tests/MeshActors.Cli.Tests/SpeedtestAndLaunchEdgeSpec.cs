using System.Globalization;
using System.Text.RegularExpressions;

namespace MeshActors.Cli.Tests;

/// <summary><c>mesh speedtest</c> with two senders on one receiver, and <c>mesh launch</c> with launch files it must refuse and programs that cannot start.</summary>
public sealed partial class SpeedtestAndLaunchEdgeSpec : LocalMeshSpec, IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("mesh-speedtest-launch-spec-");

    private string Write(string name, string text)
    {
        var path = Path.Combine(_directory.FullName, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task A_speedtest_sender_must_not_report_the_figures_of_another_senders_run_when_two_senders_share_a_receiver()
    {
        var receiver = Cli.Start("speedtest", "recv", "--topic", "shared");
        await receiver.WaitForLineAsync("waiting for speed-test senders on topic 'shared'");
        // A sends 100 B messages for long enough that B's run starts while A is still measuring.
        var first = Cli.Start("speedtest", "send", "--topic", "shared", "--message-size", "100", "--seconds", "10", "--warmup", "0");
        await first.WaitForLineAsync("sending t=");
        var second = Cli.Start("speedtest", "send", "--topic", "shared", "--message-size", "1048576", "--seconds", "2", "--warmup", "0");
        await receiver.WaitForLineAsync(line => line.Contains($"from mesh-speedtest-send-{second.Id}:", StringComparison.Ordinal));
        Assert.DoesNotContain("sent=", string.Join('\n', first.Stdout.Where(line => !line.StartsWith("sending t=", StringComparison.Ordinal))), StringComparison.Ordinal);

        var firstExit = await first.WaitForExitAsync(TimeSpan.FromSeconds(90));
        await second.WaitForExitAsync(TimeSpan.FromSeconds(90));

        // Refusing the second run, or failing the first, would both be honest; figures of the other run are not.
        if (firstExit == 0)
        {
            var figures = ResultLine().Match(first.Stdout[^1]);
            Assert.True(figures.Success, first.Transcript);
            var mps = long.Parse(figures.Groups["mps"].Value, CultureInfo.InvariantCulture);
            var mbps = long.Parse(figures.Groups["mbps"].Value, CultureInfo.InvariantCulture);
            // Its own 100-byte messages give at most 100 bytes per message received.
            Assert.True(
                mbps * 1_000_000 <= 100 * mps,
                $"the first sender reports {mbps} MB/s for {mps} msgs/s: its figures count the second sender's 1 MiB messages.\n--- first sender:\n{first.Transcript}\n--- receiver:\n{receiver.Transcript}");
        }
    }

    [Fact]
    public async Task Launch_must_refuse_a_launch_file_that_repeats_a_key_not_drop_the_first_entries()
    {
        // Two 'nodes:' lists (a merge of two files gone wrong): YAML forbids the repeated key; the first list must not vanish.
        var file = Write("launch-duplicate.yaml", """
            nodes:
              - name: first
                command: echo first
            nodes:
              - name: second
                command: echo second
            """);

        await using var cli = new MeshCli(Cli.Discovery);
        var (exitCode, launch) = await cli.RunAsync("launch", file);

        Assert.True(exitCode == 1, $"a launch file with 'nodes:' twice ran (exit {exitCode}):\n{launch.Transcript}");
        Assert.DoesNotContain(launch.Stdout, line => line.StartsWith("[second] started", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Launch_must_fail_at_once_and_stop_the_others_when_a_program_cannot_start_because_it_is_not_executable()
    {
        var notExecutable = Write("not-executable", "#!/bin/sh\necho ran\n");
        var file = Write("launch-not-executable.yaml", $"""
            nodes:
              - name: sleeper
                command: echo ready; exec sleep 1000
                post_delay: 0.2
              - name: broken
                command: ["{notExecutable}"]
            """);

        await using var cli = new MeshCli(Cli.Discovery);
        var launch = cli.Start("launch", file);
        await launch.WaitForLineAsync("[sleeper] ready");

        // Like a program that does not exist: one line naming it, exit code 1, and nothing left running.
        Assert.Equal(1, await launch.WaitForExitAsync(TestTimeouts.Default));
        await launch.WaitForLineAsync(line => line.StartsWith($"mesh: broken: cannot start '{notExecutable}'", StringComparison.Ordinal));
    }

    [GeneratedRegex(@"^mps=(?<mps>\d+) mbps=(?<mbps>\d+) p50_us=\d+ p99_us=\d+$")]
    private static partial Regex ResultLine();

    public void Dispose() => _directory.Delete(recursive: true);
}
