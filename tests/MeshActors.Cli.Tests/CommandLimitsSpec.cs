using System.Diagnostics;
using System.Globalization;
using MeshActors.Discovery;
using static MeshActors.TestKit.Conditions;

namespace MeshActors.Cli.Tests;

/// <summary>What a command promises on its command line: how many messages it prints, how long it waits, which exit code it ends with.</summary>
public sealed class CommandLimitsSpec : LocalMeshSpec, IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("mesh-limits-spec-");

    [Fact]
    public async Task Topic_echo_with_a_count_must_print_no_more_messages_than_its_count_when_a_burst_arrives()
    {
        // docs/cli.md: `topic echo <topic> -c COUNT` exits after COUNT messages, one JSON value per line, "ready for jq":
        // `mesh topic echo prices -c 1 | jq` must see one value, as `mesh record -c` writes exactly COUNT messages.
        var echo = Cli.Start("topic", "echo", "burst", "-c", "1");
        await echo.WaitForLineAsync("listening on topic 'burst'");
        await using (var publisher = await MeshNode.StartAsync(new MeshOptions
        {
            NodeName = "burster",
            Discovery = new DiscoveryOptions { Registry = Cli.Discovery },
        }))
        {
            await publisher.WaitForSubscriberAsync("burst", TestTimeouts.Default);
            for (var i = 0; i < 2000; i++)
                await publisher.PublishAsync("burst", i);

            Assert.True(await echo.WaitForExitAsync() == 0, echo.Transcript);
        }

        Assert.True(echo.Stdout.Count == 1, $"printed {echo.Stdout.Count} messages with -c 1: {string.Join(' ', echo.Stdout.Take(10))} ...");
        Assert.Equal("0", echo.Stdout[0]);
    }

    [Fact]
    public async Task Replay_must_wait_up_to_its_wait_in_all_for_the_subscribers_of_the_recorded_topics_not_once_per_topic()
    {
        // docs/cli.md: replay publishes "after waiting up to 5 s (-w) for subscribers of the recorded topics". A recording
        // of six topics nobody listens to must start playing after -w seconds, not after six times -w.
        const int waitSeconds = 2;
        string[] topics = ["t1", "t2", "t3", "t4", "t5", "t6"];
        var file = Path.Combine(_directory.FullName, "quiet.jsonl");
        await File.WriteAllLinesAsync(file,
        [
            $$"""{"mesh_recording":1,"started":"2026-01-01T00:00:00Z","topics":[{{string.Join(',', topics.Select(t => $"\"{t}\""))}}]}""",
            """{"t":0.0,"topic":"t1","data":1}""",
        ]);

        var elapsed = Stopwatch.StartNew();
        var (exitCode, replay) = await Cli.RunAsync("replay", file, "-w", waitSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        elapsed.Stop();

        Assert.True(exitCode == 0, replay.Transcript);
        Assert.Contains("replayed 1 messages from " + file, replay.Stdout);
        // The wait itself, plus a generous allowance for starting the process and joining and leaving the mesh; the
        // defect waits waitSeconds for each topic in turn (12 s here) before the first message.
        var allowed = TimeSpan.FromSeconds(waitSeconds + 7);
        Assert.True(elapsed.Elapsed < allowed, $"replay took {elapsed.Elapsed.TotalSeconds:0.0} s with -w {waitSeconds} (at most {allowed.TotalSeconds:0} s expected):\n{replay.Transcript}");
    }

    [Fact]
    public async Task Launch_must_exit_with_1_on_SIGTERM_when_a_process_had_failed_by_itself_while_its_background_job_still_ran()
    {
        // docs/cli.md: "Exit code 1 if a process that ended by itself failed". The shell of 'failing' exits with 3 at once;
        // the job it put in the background keeps running (and holds the shell's output) until the launcher stops it.
        var file = Path.Combine(_directory.FullName, "launch.yaml");
        await File.WriteAllTextAsync(file, """
            nodes:
              - name: failing
                command: echo "shell $$"; sleep 1000 & exit 3
              - name: running
                command: echo ready; exec sleep 1000
            """);
        var launch = Cli.Start("launch", file);
        var shell = int.Parse((await launch.WaitForLineAsync("[failing] shell "))["[failing] shell ".Length..], CultureInfo.InvariantCulture);
        await launch.WaitForLineAsync("[running] ready");
        // Gone from /proc: the launcher has reaped it, so it knows the process ended, and with which code, before the SIGTERM.
        await AwaitConditionAsync(() => !Directory.Exists($"/proc/{shell}"), TestTimeouts.Default, message: $"the shell {shell} of 'failing' did not end:\n{launch.Transcript}");

        launch.Terminate();

        Assert.True(await launch.WaitForExitAsync(TestTimeouts.Long) == 1, launch.Transcript);
        Assert.Contains("mesh: failing exited with code 3", launch.Transcript);
    }

    public void Dispose() => _directory.Delete(recursive: true);
}
