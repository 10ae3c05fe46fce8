using System.Text.Json;

namespace MeshActors.Cli.Recording;

/// <summary>Reads a recording written by <see cref="RecordingWriter"/>, line by line, naming the line of anything it cannot read.</summary>
internal sealed class RecordingReader : IDisposable
{
    /// <summary>The latest time a message may have, in seconds (about three years).</summary>
    private const double MaxTime = 1e8;

    // A message's data may nest as deep as a frame carries it (64 levels, docs/protocol.md 4.1), and a line wraps it in one more.
    private static readonly JsonDocumentOptions LineReading = new() { MaxDepth = 65 };

    private readonly string _path;
    private readonly RecordingLines _lines;

    private RecordingReader(string path, RecordingLines lines, RecordingHeader header)
    {
        _path = path;
        _lines = lines;
        Header = header;
    }

    public RecordingHeader Header { get; }

    public static RecordingReader Open(string path)
    {
        if (!File.Exists(path))
            throw new CliException($"recording '{path}' does not exist.");
        var lines = new RecordingLines(path, File.OpenRead(path));
        try
        {
            var first = lines.ReadLine() ?? throw new CliException($"{path} is empty: not a mesh recording.");
            return new RecordingReader(path, lines, ParseHeader(path, first));
        }
        catch
        {
            lines.Dispose();
            throw;
        }
    }

    /// <summary>The messages after the header, read as they are asked for (the file is read buffered, synchronously).</summary>
    public IEnumerable<RecordedMessage> ReadAll(CancellationToken cancellationToken = default)
    {
        while (_lines.ReadLine() is { } text)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!string.IsNullOrWhiteSpace(text))
                yield return ParseMessage(text);
        }
    }

    private static RecordingHeader ParseHeader(string path, string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text, LineReading);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(RecordingHeader.Marker, out var version))
                throw new CliException($"{path}:1: not a mesh recording (the first line has no \"{RecordingHeader.Marker}\").");
            if (version.GetInt32() != RecordingHeader.CurrentVersion)
                throw new CliException($"{path}:1: recording format version {version.GetInt32()} is not supported (this mesh reads version {RecordingHeader.CurrentVersion}).");
            var topics = root.TryGetProperty("topics", out var list) ? list.EnumerateArray().Select(t => t.GetString() ?? "").Distinct().ToList() : [];
            return new RecordingHeader(RecordingHeader.CurrentVersion, root.GetProperty("started").GetDateTimeOffset(), topics);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new CliException($"{path}:1: not a mesh recording header ({e.Message}).");
        }
    }

    private RecordedMessage ParseMessage(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text, LineReading);
            var root = document.RootElement;
            var time = root.GetProperty("t").GetDouble();
            // Seconds since the recording started: a replay at the slowest rate must still be able to wait for it.
            if (time is < 0 or > MaxTime)
                throw new FormatException($"its time \"t\" ({time}) is not 0 to {MaxTime:0} seconds");
            var topic = root.GetProperty("topic").GetString();
            if (string.IsNullOrEmpty(topic))
                throw new FormatException("its \"topic\" is null or empty");
            return new RecordedMessage(
                time,
                topic,
                root.TryGetProperty("from", out var from) ? from.GetString() : null,
                root.TryGetProperty("data", out var data) ? data.Clone() : default,
                root.TryGetProperty("bin", out var bin) ? bin.GetBytesFromBase64() : null);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new CliException($"{_path}:{_lines.Number}: not a recorded message ({e.Message}).");
        }
    }

    public void Dispose() => _lines.Dispose();
}
