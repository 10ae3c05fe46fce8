namespace MeshActors.Cli.Tests;

/// <summary>
/// <c>mesh record</c>, <c>mesh info</c> and <c>mesh replay</c> as real processes: a recording in progress is a recording,
/// and a replay reaches the subscribers of the topics its messages are on.
/// </summary>
public sealed class RecordingEdgeSpec : LocalMeshSpec, IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("mesh-recording-edge-spec-");

    [Fact]
    public async Task A_recording_in_progress_must_be_a_readable_recording_before_its_first_message_arrives()
    {
        // A recording in progress can be read (by info, by replay), and one whose recorder is killed is a recording: its
        // header is on disk from the start, not only with its first message.
        var file = Path.Combine(_directory.FullName, "quiet.jsonl");
        var record = Cli.Start("record", file, "quiet");
        await record.WaitForLineAsync("recording quiet");

        var (exitCode, info) = await Cli.RunAsync("info", file);

        Assert.True(exitCode == 0, $"info of the recording in progress:\n{info.Transcript}\n{new FileInfo(file).Length} bytes on disk");
        Assert.Contains("messages: 0", info.Stdout);
    }

    [Fact]
    public async Task Replay_must_wait_for_the_subscribers_of_the_topics_its_messages_are_on_when_the_header_lists_none()
    {
        // A header may list no topics (or fewer than the messages use): replay waits for the subscribers of the topics
        // its messages are on, or a message published before its node is connected to them is dropped.
        var file = Path.Combine(_directory.FullName, "no-topics.jsonl");
        await File.WriteAllLinesAsync(file,
        [
            """{"mesh_recording":1,"started":"2026-01-01T00:00:00Z","topics":[]}""",
            """{"t":0,"topic":"late","data":{"n":1}}""",
        ]);
        var echo = Cli.Start("topic", "echo", "late", "-c", "1");
        await echo.WaitForLineAsync("listening on topic 'late'");

        var (exitCode, replay) = await Cli.RunAsync("replay", file, "--immediate");

        Assert.True(exitCode == 0, replay.Transcript);
        Assert.Contains("replayed 1 messages from " + file, replay.Stdout);
        Assert.Equal(0, await echo.WaitForExitAsync());
        Assert.Equal(["""{"n":1}"""], echo.Stdout);
    }

    [Fact]
    public async Task Info_must_describe_a_recording_whose_header_names_a_topic_twice_as_replay_plays_it()
    {
        // Nothing in the format says the header's topics are distinct, and replay plays such a file.
        var file = Path.Combine(_directory.FullName, "twice.jsonl");
        await File.WriteAllLinesAsync(file,
        [
            """{"mesh_recording":1,"started":"2026-01-01T00:00:00Z","topics":["a","a"]}""",
            """{"t":0.5,"topic":"a","data":1}""",
        ]);

        var (exitCode, info) = await Cli.RunAsync("info", file);

        Assert.True(exitCode == 0, info.Transcript);
        Assert.Contains("messages: 1", info.Stdout);
        Assert.Contains("topic a: 1", info.Stdout);
    }

    public void Dispose() => _directory.Delete(recursive: true);
}
