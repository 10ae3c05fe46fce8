using System.Text.Json;

namespace MeshActors.Cli.Tests;

/// <summary>What docs/cli.md promises of the mesh command's output and exit codes, held against the real processes.</summary>
public sealed class CliDocsContractSpec : LocalMeshSpec
{
    [Fact]
    public async Task Topic_echo_must_print_a_message_on_one_line_when_its_JSON_spans_several()
    {
        // docs/cli.md, mesh topic echo: "redirected: one JSON value per line, ready for jq". JSON may hold whitespace,
        // newlines included, between its tokens (RFC 8259 2): a peer that sends indented JSON (Python's
        // json.dumps(indent=2)) or `mesh topic send` given such an argument still makes one message, so one line.
        var echo = Cli.Start("topic", "echo", "pretty", "-c", "1");
        await echo.WaitForLineAsync("listening on topic 'pretty'");

        var (sent, send) = await Cli.RunAsync("topic", "send", "pretty", "{\n  \"px\": 101.5,\n  \"sym\": \"ABC\"\n}");
        Assert.True(sent == 0, send.Transcript);

        Assert.True(await echo.WaitForExitAsync() == 0, echo.Transcript);
        var line = Assert.Single(echo.Stdout);
        using var message = JsonDocument.Parse(line);
        Assert.Equal(101.5, message.RootElement.GetProperty("px").GetDouble());
        Assert.Equal("ABC", message.RootElement.GetProperty("sym").GetString());
    }

    [Fact]
    public async Task Speedtest_recv_with_a_run_count_must_exit_with_130_when_SIGTERM_stops_it_before_its_runs()
    {
        // docs/cli.md, Output: "A command that Ctrl+C or SIGTERM stops before it is done exits with 130"; as with
        // `topic echo -c` and `record -c` (and `ping -c N`), a receiver told to serve `--runs 1` is not done before its
        // run: only without a count is Ctrl+C its ordinary end.
        var receiver = Cli.Start("speedtest", "recv", "--topic", "counted", "--runs", "1");
        await receiver.WaitForLineAsync("waiting for speed-test senders on topic 'counted'");

        receiver.Terminate();

        var exitCode = await receiver.WaitForExitAsync();
        Assert.True(exitCode == 130, $"exit code {exitCode}, not 130:\n{receiver.Transcript}");
    }
}
