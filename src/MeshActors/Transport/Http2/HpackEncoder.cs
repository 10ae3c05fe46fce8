using System.Buffers;
using System.Text;

namespace MeshActors.Transport.Http2;

/// <summary>Encodes request headers the simplest safe way (RFC 7541): static-table indexes and literals, no dynamic table, no Huffman.</summary>
/// <remarks>
/// Never touching the peer's dynamic table means no state to keep in step with it, and our requests carry a handful
/// of short fields once per channel: compressing them further would save nothing that matters.
/// </remarks>
internal static class HpackEncoder
{
    /// <summary>Writes an indexed field from the static table (e.g. 3 = ":method: POST", 6 = ":scheme: http", 7 = ":scheme: https").</summary>
    public static void WriteIndexed(int staticIndex, IBufferWriter<byte> output)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(staticIndex, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(staticIndex, HpackStaticTable.Count);
        var span = output.GetSpan(HpackInteger.MaxLength);
        output.Advance(HpackInteger.Write(staticIndex, 7, 0x80, span));
    }

    /// <summary>Writes a literal field without indexing whose name is a static-table entry (e.g. 1 = ":authority", 4 = ":path").</summary>
    /// <exception cref="ArgumentException">The value is not ASCII or holds a control character other than HTAB.</exception>
    public static void WriteLiteral(int staticNameIndex, string value, IBufferWriter<byte> output)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(staticNameIndex, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(staticNameIndex, HpackStaticTable.Count);
        EnsureValue(HpackStaticTable.Get(staticNameIndex).Key, value);
        var span = output.GetSpan(2 * HpackInteger.MaxLength + value.Length);
        var written = HpackInteger.Write(staticNameIndex, 4, 0x00, span);
        written += WriteString(value, span[written..]);
        output.Advance(written);
    }

    /// <summary>Writes a literal field without indexing with a literal name.</summary>
    /// <exception cref="ArgumentException">The name is empty or holds an upper-case letter, or the name or value is not ASCII or holds a control character other than HTAB.</exception>
    public static void WriteLiteral(string name, string value, IBufferWriter<byte> output)
    {
        // HTTP/2 field names are lower-case: a peer treats a request with an upper-case one as malformed (RFC 9113 section 8.2.1).
        if (name.Length == 0 || name.AsSpan().ContainsAnyInRange('A', 'Z'))
        {
            throw new ArgumentException($"The header name '{name}' is empty or not lower-case.", nameof(name));
        }

        EnsureText(name, name, nameof(name));
        EnsureValue(name, value);
        var span = output.GetSpan(3 * HpackInteger.MaxLength + name.Length + value.Length);
        span[0] = 0x00;
        var written = 1;
        written += WriteString(name, span[written..]);
        written += WriteString(value, span[written..]);
        output.Advance(written);
    }

    /// <summary>A string literal without Huffman coding: its length with a 7-bit prefix, then its bytes.</summary>
    private static int WriteString(string text, Span<byte> destination)
    {
        var written = HpackInteger.Write(text.Length, 7, 0x00, destination);
        return written + Encoding.ASCII.GetBytes(text, destination[written..]);
    }

    private static void EnsureValue(string name, string value) => EnsureText(name, value, nameof(value));

    // Anything else would be mangled by the ASCII encoding or let a value smuggle a line break to a peer that
    // translates to HTTP/1.1; RFC 9113 section 8.2.1 makes both malformed.
    private static void EnsureText(string name, string text, string parameter)
    {
        foreach (var c in text)
        {
            if (c is not ('\t' or (>= ' ' and <= '~')))
            {
                throw new ArgumentException($"The header '{name}' holds the character U+{(int)c:X4}: only ASCII without control characters other than HTAB is allowed.", parameter);
            }
        }
    }
}
