using System.Text;
using System.Text.Unicode;

namespace MeshActors.Cli.Recording;

/// <summary>
/// A recording's lines, numbered from 1: checked as UTF-8 byte by byte (RFC 8259 8.1), so that a byte that is not
/// text fails its own line rather than reach the mesh as U+FFFD, and bounded, so that a file with no line breaks
/// cannot take all the memory there is.
/// </summary>
internal sealed class RecordingLines(string path, Stream stream) : IDisposable
{
    /// <summary>The longest line read: a message as large as the largest frame (16 MiB), escaped, with room to spare.</summary>
    public const int MaxLineBytes = 64 * 1024 * 1024;

    private readonly Stream _stream = new BufferedStream(stream, 64 * 1024);
    private readonly MemoryStream _line = new();

    /// <summary>The number of the line <see cref="ReadLine"/> returned last.</summary>
    public int Number { get; private set; }

    /// <summary>The next line without its line break (LF or CRLF); null at the end of the file.</summary>
    /// <exception cref="CliException">The line is not UTF-8, or longer than <see cref="MaxLineBytes"/>.</exception>
    public string? ReadLine()
    {
        _line.SetLength(0);
        int next;
        while ((next = _stream.ReadByte()) >= 0 && next != '\n')
        {
            if (_line.Length == MaxLineBytes)
                throw new CliException($"{path}:{Number + 1}: a line longer than {MaxLineBytes / (1024 * 1024)} MiB: not a mesh recording.");
            _line.WriteByte((byte)next);
        }

        if (next < 0 && _line.Length == 0)
            return null;
        Number++;
        var bytes = _line.GetBuffer().AsSpan(0, (int)_line.Length);
        if (bytes.EndsWith("\r"u8))
            bytes = bytes[..^1];
        if (Number == 1 && bytes.StartsWith("\uFEFF"u8))
            bytes = bytes[3..]; // a byte order mark, as editors on Windows write
        if (!Utf8.IsValid(bytes))
            throw new CliException($"{path}:{Number}: not UTF-8 text; a recording is UTF-8 JSON, one message per line.");
        return Encoding.UTF8.GetString(bytes);
    }

    public void Dispose() => _stream.Dispose();
}
