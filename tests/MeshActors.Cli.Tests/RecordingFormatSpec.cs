using System.Text.Json;
using MeshActors.Cli.Recording;

namespace MeshActors.Cli.Tests;

public sealed class RecordingFormatSpec : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"mesh-recording-{Guid.NewGuid():N}.jsonl");

    [Fact]
    public async Task Reader_must_return_what_the_writer_wrote_in_order()
    {
        await using (var writer = new RecordingWriter(_path, ["a", "b"]))
        {
            writer.Add("a", "alice", Json("""{"n":1}"""), ReadOnlyMemory<byte>.Empty);
            writer.Add("b", null, default, new byte[] { 0, 1, 2, 255 });
            writer.Add("a", "bob", Json("\"text\""), ReadOnlyMemory<byte>.Empty);
        }

        using var reader = RecordingReader.Open(_path);
        var messages = new List<RecordedMessage>();
        foreach (var message in reader.ReadAll())
            messages.Add(message);

        Assert.Equal(["a", "b"], reader.Header.Topics);
        Assert.Equal(["a", "b", "a"], messages.Select(m => m.Topic));
        Assert.Equal(["alice", null, "bob"], messages.Select(m => m.From));
        Assert.Equal("""{"n":1}""", messages[0].Data.GetRawText());
        Assert.Equal(JsonValueKind.Null, messages[1].Data.ValueKind);
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, messages[1].Attachment);
        Assert.Equal("\"text\"", messages[2].Data.GetRawText());
        Assert.True(messages.Zip(messages.Skip(1)).All(p => p.First.Time <= p.Second.Time));
    }

    [Fact]
    public void Reader_must_refuse_a_file_that_is_not_a_recording()
    {
        File.WriteAllText(_path, """{"something":"else"}""" + "\n");

        var error = Assert.Throws<CliException>(() => RecordingReader.Open(_path));

        Assert.Contains(":1: not a mesh recording", error.Message);
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    public void Dispose() => File.Delete(_path);
}
