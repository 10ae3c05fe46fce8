using System.Text.Json;

namespace MeshActors.Cli.Tests;

/// <summary><c>mesh record</c>, <c>mesh info</c> and <c>mesh replay</c> against real nodes.</summary>
public sealed class RecordReplaySpec : IAsyncLifetime
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("mesh-record-spec-");
    private MeshCli _cli = null!;

    [Fact]
    public async Task Record_info_and_replay_must_round_trip_the_messages_of_several_topics()
    {
        var file = Path.Combine(_directory.FullName, "session.jsonl");
        var record = _cli.Start("record", file, "prices", "orders", "--count", "3");
        await record.WaitForLineAsync("recording prices, orders");
        await Send("prices", """{"sym":"ABC","px":101.5}""");
        await Send("orders", """{"id":7}""");
        await Send("prices", """{"sym":"ABC","px":101.7}""");
        Assert.Equal(0, await record.WaitForExitAsync());

        var (infoExit, info) = await _cli.RunAsync("info", file);
        Assert.True(infoExit == 0, info.Transcript);
        Assert.Contains("messages: 3", info.Stdout);
        Assert.Contains("topic prices: 2", info.Stdout);
        Assert.Contains("topic orders: 1", info.Stdout);

        var echo = _cli.Start("topic", "echo", "prices", "--count", "2");
        await echo.WaitForLineAsync("listening on topic 'prices'");
        var (replayExit, replay) = await _cli.RunAsync("replay", file, "--rate", "10");
        Assert.True(replayExit == 0, replay.Transcript);
        Assert.Contains("replayed 3 messages from " + file, replay.Stdout);
        Assert.Equal(0, await echo.WaitForExitAsync());
        Assert.Equal(["""{"sym":"ABC","px":101.5}""", """{"sym":"ABC","px":101.7}"""], echo.Stdout);
    }

    [Fact]
    public async Task Replay_must_send_a_messages_json_and_its_attachment_together()
    {
        var recorded = Path.Combine(_directory.FullName, "images.jsonl");
        await File.WriteAllLinesAsync(recorded,
        [
            """{"mesh_recording":1,"started":"2026-01-01T00:00:00Z","topics":["images"]}""",
            """{"t":0.1,"topic":"images","data":{"name":"dot.png"},"bin":"AAECAw=="}""",
            """{"t":0.2,"topic":"images","data":null,"bin":"BAU="}""",
        ]);
        var again = Path.Combine(_directory.FullName, "again.jsonl");
        var record = _cli.Start("record", again, "images", "--count", "2");
        await record.WaitForLineAsync("recording images");

        var (replayExit, replay) = await _cli.RunAsync("replay", recorded);

        Assert.True(replayExit == 0, replay.Transcript);
        Assert.Equal(0, await record.WaitForExitAsync());
        var messages = (await File.ReadAllLinesAsync(again)).Skip(1).Select(line => JsonDocument.Parse(line).RootElement).ToArray();
        Assert.Equal(["""{"name":"dot.png"}""", "null"], messages.Select(m => m.GetProperty("data").GetRawText()));
        Assert.Equal(["AAECAw==", "BAU="], messages.Select(m => m.GetProperty("bin").GetString()));
    }

    [Fact]
    public async Task Info_must_print_the_start_in_UTC_whatever_offset_the_header_was_written_with()
    {
        var file = Path.Combine(_directory.FullName, "offset.jsonl");
        await File.WriteAllLinesAsync(file, ["""{"mesh_recording":1,"started":"2026-01-01T02:00:00+02:00","topics":["a"]}""", """{"t":0.5,"topic":"a","data":1}"""]);

        var (exitCode, info) = await _cli.RunAsync("info", file);

        Assert.True(exitCode == 0, info.Transcript);
        Assert.Contains("started: 2026-01-01 00:00:00.000 UTC", info.Stdout);
    }

    [Fact]
    public async Task Info_must_name_the_line_it_cannot_read()
    {
        var file = Path.Combine(_directory.FullName, "broken.jsonl");
        await File.WriteAllLinesAsync(file, ["""{"mesh_recording":1,"started":"2026-01-01T00:00:00Z","topics":["a"]}""", """{"t":0.5,"topic":"a","data":1}""", "not json"]);

        var (exitCode, info) = await _cli.RunAsync("info", file);

        Assert.Equal(1, exitCode);
        Assert.StartsWith($"[stderr] mesh: {file}:3: not a recorded message", info.Transcript);
    }

    [Theory]
    [InlineData("""{"t":1e300,"topic":"a","data":2}""", "time")]
    [InlineData("""{"t":-1,"topic":"a","data":2}""", "time")]
    [InlineData("""{"t":1,"topic":"","data":2}""", "topic")]
    public async Task Replay_must_refuse_a_recording_with_a_message_it_cannot_play_before_publishing_any(string line, string what)
    {
        var file = Path.Combine(_directory.FullName, "unplayable.jsonl");
        await File.WriteAllLinesAsync(file, ["""{"mesh_recording":1,"started":"2026-01-01T00:00:00Z","topics":["a"]}""", """{"t":0,"topic":"a","data":1}""", line]);
        var listener = _cli.Start("topic", "echo", "a");
        await listener.WaitForLineAsync(line => line.Contains("listening on topic 'a'", StringComparison.Ordinal));

        var (exitCode, replay) = await _cli.RunAsync("replay", file, "-w", "5");

        Assert.Equal(1, exitCode);
        Assert.Contains($"{file}:3: not a recorded message", replay.Transcript);
        Assert.Contains(what, replay.Transcript);
        // The message before the bad line was not published either: the listener's first message is the one sent now.
        await Send("a", "3");
        await listener.WaitForLineAsync(line => line == "3");
        Assert.DoesNotContain("1", listener.Stdout);
    }

    private async Task Send(string topic, string json)
    {
        var (exitCode, send) = await _cli.RunAsync("topic", "send", topic, json);
        Assert.True(exitCode == 0, send.Transcript);
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
