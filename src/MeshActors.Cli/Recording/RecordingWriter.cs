using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;

namespace MeshActors.Cli.Recording;

/// <summary>
/// Writes a recording as JSON lines (docs/cli.md): a header line, then one line per message,
/// <c>{"t":1.234567,"topic":"prices","from":"pricer","data":{...},"bin":"base64"}</c>.
/// </summary>
/// <remarks>Subscription callbacks only queue; one writer task owns the file, so callbacks never wait for the disk.</remarks>
internal sealed class RecordingWriter : IAsyncDisposable
{
    private readonly Channel<RecordedMessage> _queue = Channel.CreateUnbounded<RecordedMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly FileStream _file;
    private readonly Utf8JsonWriter _json;
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly Task _writing;
    private long _written;

    public RecordingWriter(string path, IReadOnlyList<string> topics)
    {
        _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 64 * 1024);
        _json = new Utf8JsonWriter(_file);
        try
        {
            _json.WriteStartObject();
            _json.WriteNumber(RecordingHeader.Marker, RecordingHeader.CurrentVersion);
            _json.WriteString("started", DateTimeOffset.UtcNow);
            _json.WriteStartArray("topics");
            foreach (var topic in topics)
                _json.WriteStringValue(topic);
            _json.WriteEndArray();
            _json.WriteEndObject();
            // On disk at once: a recording whose topic stays quiet, or whose recorder is killed, is an empty recording, not an empty file.
            _json.Flush();
            _file.Flush();
        }
        catch
        {
            _file.Dispose(); // the disk refused even the header: nothing is left open
            throw;
        }

        _writing = WriteAllAsync();
    }

    /// <summary>The writer task: it ends with the recording, and before only when writing failed (an I/O error), which disposing throws.</summary>
    public Task Writing => _writing;

    /// <summary>Messages written to the file so far.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Queues a message, stamped with the time since the recording started.</summary>
    public void Add(string topic, string? from, JsonElement data, ReadOnlyMemory<byte> attachment) =>
        _queue.Writer.TryWrite(new RecordedMessage(
            Stopwatch.GetElapsedTime(_start).TotalSeconds, topic, from, data.ValueKind == JsonValueKind.Undefined ? default : data.Clone(), attachment.IsEmpty ? null : attachment.ToArray()));

    private async Task WriteAllAsync()
    {
        // Writes whatever is queued, then flushes once, so a burst costs one flush and a quiet topic is on disk at once.
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (_queue.Reader.TryRead(out var message))
                Write(message);
            await _json.FlushAsync().ConfigureAwait(false);
            await _file.FlushAsync().ConfigureAwait(false);
        }
    }

    private void Write(RecordedMessage message)
    {
        _json.Flush();
        _file.WriteByte((byte)'\n');
        _json.Reset();
        _json.WriteStartObject();
        _json.WriteNumber("t", Math.Round(message.Time, 6));
        _json.WriteString("topic", message.Topic);
        if (message.From is not null)
            _json.WriteString("from", message.From);
        _json.WritePropertyName("data");
        if (message.Data.ValueKind == JsonValueKind.Undefined)
            _json.WriteNullValue();
        else
            _json.WriteRawValue(JsonText.Compact(message.Data), skipInputValidation: true);
        if (message.Attachment is not null)
            _json.WriteBase64String("bin", message.Attachment);
        _json.WriteEndObject();
        Interlocked.Increment(ref _written);
    }

    /// <summary>Writes what is queued and closes the file.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        try
        {
            await _writing.ConfigureAwait(false);
            await _json.FlushAsync().ConfigureAwait(false);
            _file.WriteByte((byte)'\n');
        }
        finally
        {
            try
            {
                await _json.DisposeAsync().ConfigureAwait(false); // flushes what it holds, which may fail as the writes did
            }
            finally
            {
                await _file.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
