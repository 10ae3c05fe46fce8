using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using static MeshActors.TestKit.Conditions;

namespace MeshActors.Cli.Tests;

/// <summary><c>mesh launch</c> as a real process, starting and stopping real child processes.</summary>
public sealed class LaunchSpec : IAsyncLifetime
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("mesh-launch-spec-");
    private MeshCli _cli = null!;

    private string Write(string yaml)
    {
        var path = Path.Combine(_directory.FullName, $"launch-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public async Task Launch_must_start_the_entries_in_order_with_their_number_and_environment()
    {
        var file = Write("""
            nodes:
              - name: first
                command: echo "first $MESH_NODE_NAME $MESH_NODE_INDEX $MESH_DISCOVERY"
                number: 2
                post_delay: 0.2
              - name: skipped
                command: echo never
                disabled: true
              - name: second
                command: [sh, -c, "echo second"]
                pre_delay: 0.1
            """);

        var (exitCode, launch) = await _cli.RunAsync("launch", file);

        Assert.True(exitCode == 0, launch.Transcript);
        Assert.Contains($"[first#1] first first 1 {_cli.Discovery}", launch.Stdout);
        Assert.Contains($"[first#2] first first 2 {_cli.Discovery}", launch.Stdout);
        Assert.DoesNotContain(launch.Stdout, line => line.Contains("never", StringComparison.Ordinal));
        Assert.Contains("[second] second", launch.Stdout);
        var lines = launch.Stdout.ToList();
        Assert.True(
            lines.FindIndex(l => l.StartsWith("[second] started", StringComparison.Ordinal)) > lines.FindIndex(l => l.StartsWith("[first#2] started", StringComparison.Ordinal)),
            launch.Transcript);
    }

    [Fact]
    public async Task Launch_must_stop_its_nodes_cleanly_when_it_gets_SIGTERM()
    {
        var file = Write("""
            nodes:
              - name: launched
                command: mesh node
                number: 2
            """);
        var launch = _cli.Start("launch", file);
        await launch.WaitForLineAsync("[launched#1] node name=launched ");
        await launch.WaitForLineAsync("[launched#2] node name=launched ");

        launch.Terminate();

        Assert.Equal(0, await launch.WaitForExitAsync());
        Assert.Contains("[launched#1] stopped", launch.Stdout);
        Assert.Contains("[launched#2] stopped", launch.Stdout);
    }

    [Fact]
    public async Task Launch_must_kill_a_process_that_ignores_SIGTERM_after_ten_seconds()
    {
        var file = Write("""
            nodes:
              - name: stubborn
                command: [sh, -c, "trap '' TERM; echo ready; while true; do sleep 0.1; done"]
            """);
        var launch = _cli.Start("launch", file);
        await launch.WaitForLineAsync("[stubborn] ready");

        var stopping = Stopwatch.StartNew();
        launch.Terminate();

        Assert.Equal(0, await launch.WaitForExitAsync(TestTimeouts.Long));
        Assert.InRange(stopping.Elapsed, TimeSpan.FromSeconds(9.5), TestTimeouts.Long);
        await launch.WaitForLineAsync(line => line.Contains("stubborn: still running after SIGTERM, killing it", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Launch_must_stop_every_process_of_a_compound_command_on_SIGTERM()
    {
        // The inner sh prints its pid and becomes the sleep: a grandchild of the launcher, in the foreground of a shell.
        var file = Write("""
            nodes:
              - name: compound
                command: echo ready; sh -c 'echo "sleeper $$"; exec sleep 1000'; echo done
            """);
        var launch = _cli.Start("launch", file);
        var sleeper = int.Parse((await launch.WaitForLineAsync("[compound] sleeper "))["[compound] sleeper ".Length..], System.Globalization.CultureInfo.InvariantCulture);

        launch.Terminate();

        Assert.Equal(0, await launch.WaitForExitAsync());
        Assert.False(IsRunning(sleeper), $"the grandchild {sleeper} survived mesh launch:\n{launch.Transcript}");
    }

    [Fact]
    public async Task Launch_must_stop_its_processes_on_SIGHUP_as_on_SIGTERM()
    {
        // The children are in sessions of their own: the terminal's SIGHUP reaches only the launcher.
        var file = Write("""
            nodes:
              - name: launched
                command: mesh node
              - name: sleeper
                command: echo "sleeper $$"; exec sleep 1000
            """);
        var launch = _cli.Start("launch", file);
        await launch.WaitForLineAsync("[launched] node name=launched ");
        var sleeper = int.Parse((await launch.WaitForLineAsync("[sleeper] sleeper "))["[sleeper] sleeper ".Length..], CultureInfo.InvariantCulture);

        launch.Hangup();

        Assert.Equal(0, await launch.WaitForExitAsync());
        Assert.Contains("[launched] stopped", launch.Stdout);
        Assert.False(IsRunning(sleeper), $"{sleeper} survived mesh launch:\n{launch.Transcript}");
    }

    [Fact]
    public async Task Launch_must_stop_its_processes_when_its_terminal_closes()
    {
        // Closing the terminal hangs it up: SIGHUP, and every later write to it fails (EIO), the launcher's notes included.
        var file = Write("""
            nodes:
              - name: sleeper
                command: echo "pids $$ $PPID"; exec sleep 1000
            """);
        var terminal = _cli.StartOnTerminal("launch", file);
        var pids = Regex.Match(await terminal.WaitForLineAsync(line => line.Contains("pids ", StringComparison.Ordinal)), @"pids (\d+) (\d+)");
        var (sleeper, launcher) = (int.Parse(pids.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(pids.Groups[2].Value, CultureInfo.InvariantCulture));

        terminal.KillAlone();

        await AwaitConditionAsync(() => !IsRunning(launcher), TestTimeouts.Default, message: $"mesh launch {launcher} did not exit");
        Assert.False(IsRunning(sleeper), $"{sleeper} survived mesh launch");
    }

    [Fact]
    public async Task Launch_must_exit_with_1_when_a_process_fails()
    {
        var file = Write("""
            nodes:
              - name: failing
                command: [sh, -c, "exit 3"]
            """);

        var (exitCode, launch) = await _cli.RunAsync("launch", file);

        Assert.Equal(1, exitCode);
        Assert.Contains("mesh: failing exited with code 3", launch.Transcript);
    }

    [Fact]
    public async Task Launch_must_still_exit_with_1_on_SIGTERM_when_a_process_had_failed_by_itself()
    {
        // The post_delay lets the failing process end before the next one starts, and so before the SIGTERM.
        var file = Write("""
            nodes:
              - name: failing
                command: [sh, -c, "exit 3"]
                post_delay: 0.5
              - name: running
                command: echo ready; exec sleep 1000
            """);
        var launch = _cli.Start("launch", file);
        await launch.WaitForLineAsync("[running] ready");

        launch.Terminate();

        Assert.Equal(1, await launch.WaitForExitAsync());
        Assert.Contains("mesh: failing exited with code 3", launch.Transcript);
        Assert.DoesNotContain("mesh: running exited", launch.Transcript);
    }

    [Fact]
    public async Task Launch_must_reject_a_delay_too_long_for_a_timer_before_starting_anything()
    {
        var file = Write("""
            nodes:
              - name: sleeper
                command: sleep 1000
                post_delay: 10000000
            """);

        var (exitCode, launch) = await _cli.RunAsync("launch", file);

        Assert.Equal(1, exitCode);
        Assert.Equal($"[stderr] mesh: {file}: nodes[0]: 'pre_delay' and 'post_delay' must be between 0 and 4294967 seconds.", launch.Transcript.Trim());
    }

    [Theory]
    [InlineData("nodes:\n  -\n", ": nodes[0]: 'command' is missing: give a command line or a list of words.")]
    [InlineData("nodes:\n  - command: x\n    number: two\n", ":3:13: Exception during deserialization: The input string 'two' was not in a correct format. (see docs/cli.md, 'mesh launch').")]
    public async Task Launch_must_explain_a_wrong_entry_in_one_line(string yaml, string error)
    {
        var file = Write(yaml);

        var (exitCode, launch) = await _cli.RunAsync("launch", file);

        Assert.Equal(1, exitCode);
        Assert.Equal($"[stderr] mesh: {file}{error}", launch.Transcript.Trim());
    }

    [Fact]
    public async Task Launch_must_run_nothing_for_an_empty_list_of_nodes()
    {
        var (exitCode, launch) = await _cli.RunAsync("launch", Write("nodes:\n"));

        Assert.True(exitCode == 0, launch.Transcript);
        Assert.Empty(launch.Transcript);
    }

    [Fact]
    public async Task Launch_must_reject_an_entry_without_a_command_in_one_line()
    {
        var file = Write("""
            nodes:
              - name: nothing
            """);

        var (exitCode, launch) = await _cli.RunAsync("launch", file);

        Assert.Equal(1, exitCode);
        Assert.Equal($"[stderr] mesh: {file}: nodes[0]: 'command' is missing: give a command line or a list of words.", launch.Transcript.Trim());
    }

    /// <summary>True while <paramref name="pid"/> runs: neither gone nor a zombie waiting to be reaped.</summary>
    private static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
    }

    public Task InitializeAsync()
    {
        _cli = new MeshCli("local:" + Path.Combine(_directory.FullName, "registry"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _cli.DisposeAsync();
        _directory.Delete(recursive: true);
    }
}
