using System.Buffers;
using System.Runtime.CompilerServices;

namespace MeshActors.Protocol;

/// <summary>A forward-only cursor over one JSON object that checks the grammar as it goes, for the decoder's hot path.</summary>
/// <remarks>
/// Accepts only what <see cref="System.Text.Json.Utf8JsonReader"/> with default options accepts, and gives up (returns
/// false, after which the cursor is done with) on anything else; the caller then lets the reader decide, so that errors
/// and their messages stay the reader's.
/// Expects text already validated as UTF-8: bytes above 0x7F are only ever looked at inside strings.
/// The helpers take and return an index rather than move a field, which keeps the position in a register.
/// </remarks>
internal ref struct JsonCursor(ReadOnlySpan<byte> json)
{
    // The frame's limit, less the envelope's own object.
    private const int MaxValueDepth = WireProtocol.MaxDepth - 1;

    private const int Failed = -1;

    private static readonly SearchValues<byte> StringStops =
        SearchValues.Create([.. Enumerable.Range(0, 0x20).Select(b => (byte)b), (byte)'"', (byte)'\\']);

    private static readonly SearchValues<byte> HexDigits = SearchValues.Create("0123456789abcdefABCDEF"u8);

    private readonly ReadOnlySpan<byte> _json = json;
    private int _position;

    /// <summary>The offset of the next byte to read.</summary>
    public readonly int Position => _position;

    /// <summary>True when the last value read has escapes in its strings, so that its raw bytes are not its text.</summary>
    public bool ValueIsEscaped { get; private set; }

    /// <summary>Consumes <paramref name="token"/> (after any whitespace) when it comes next.</summary>
    public bool TryRead(byte token)
    {
        _position = SkipWhitespace(_json, _position);
        if (_position < _json.Length && _json[_position] == token)
        {
            _position++;
            return true;
        }

        return false;
    }

    /// <summary>True when nothing but whitespace is left.</summary>
    public bool AtEnd() => (_position = SkipWhitespace(_json, _position)) == _json.Length;

    /// <summary>Reads a member name and the colon after it; false for anything else, a name with escapes included.</summary>
    public bool TryReadName(out ReadOnlySpan<byte> name)
    {
        name = default;
        var start = SkipWhitespace(_json, _position);
        if (start == _json.Length || _json[start] != '"')
        {
            return false;
        }

        var end = SkipPlainText(_json, start + 1);
        if (end == _json.Length || _json[end] != '"')
        {
            return false;
        }

        name = _json[(start + 1)..end];
        return (_position = SkipColon(_json, end + 1)) != Failed;
    }

    /// <summary>Reads one value of any kind, nested ones whole, and returns its text; false when it is not valid JSON.</summary>
    /// <remarks>Walks nested values without recursion: one bit per open container, the innermost lowest, is set for an object.</remarks>
    public bool TryReadValue(out ReadOnlySpan<byte> value)
    {
        var json = _json;
        var start = SkipWhitespace(json, _position);
        var i = start;
        var escaped = false;
        ulong objects = 0;
        var depth = 0;
        value = default;
        while (true)
        {
            // A value starts here: a scalar, an empty container, or a container that opens onto its first value.
            i = SkipWhitespace(json, i);
            if (i == json.Length)
            {
                return false;
            }

            switch (json[i])
            {
                case (byte)'{' or (byte)'[' when depth == MaxValueDepth:
                    return false;
                case (byte)'{':
                    i = SkipWhitespace(json, i + 1);
                    if (i < json.Length && json[i] == '}')
                    {
                        i++;
                        break;
                    }

                    objects = objects << 1 | 1;
                    depth++;
                    i = SkipMemberName(json, i, ref escaped);
                    if (i == Failed)
                    {
                        return false;
                    }

                    continue;
                case (byte)'[':
                    i = SkipWhitespace(json, i + 1);
                    if (i < json.Length && json[i] == ']')
                    {
                        i++;
                        break;
                    }

                    objects <<= 1;
                    depth++;
                    continue;
                case (byte)'"':
                    i = SkipString(json, i, ref escaped);
                    break;
                case (byte)'t':
                    i = SkipLiteral(json, i, "true"u8);
                    break;
                case (byte)'f':
                    i = SkipLiteral(json, i, "false"u8);
                    break;
                case (byte)'n':
                    i = SkipLiteral(json, i, "null"u8);
                    break;
                default:
                    i = SkipNumber(json, i);
                    break;
            }

            // The value is complete: close the containers it completes, then go on to the next member or element.
            while (i != Failed && depth > 0)
            {
                i = SkipWhitespace(json, i);
                if (i == json.Length)
                {
                    return false;
                }

                var isObject = (objects & 1) != 0;
                if (json[i] == ',')
                {
                    i = isObject ? SkipMemberName(json, i + 1, ref escaped) : i + 1;
                    break;
                }

                if (json[i] != (isObject ? '}' : ']'))
                {
                    return false;
                }

                i++;
                objects >>= 1;
                depth--;
            }

            if (i == Failed)
            {
                return false;
            }

            if (depth == 0)
            {
                _position = i;
                ValueIsEscaped = escaped;
                value = json[start..i];
                return true;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SkipWhitespace(ReadOnlySpan<byte> json, int i)
    {
        while (i < json.Length && json[i] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
        {
            i++;
        }

        return i;
    }

    private static int SkipColon(ReadOnlySpan<byte> json, int i)
    {
        i = SkipWhitespace(json, i);
        return i < json.Length && json[i] == ':' ? i + 1 : Failed;
    }

    // A member name inside a value, escapes allowed, and its colon.
    private static int SkipMemberName(ReadOnlySpan<byte> json, int i, ref bool escaped)
    {
        i = SkipWhitespace(json, i);
        if (i == json.Length || json[i] != '"')
        {
            return Failed;
        }

        i = SkipString(json, i, ref escaped);
        return i == Failed ? Failed : SkipColon(json, i);
    }

    // From the opening quote to past the closing one.
    private static int SkipString(ReadOnlySpan<byte> json, int i, ref bool escaped)
    {
        i++;
        while (true)
        {
            i = SkipPlainText(json, i);
            if (i == json.Length)
            {
                return Failed;
            }

            switch (json[i])
            {
                case (byte)'"':
                    return i + 1;
                case (byte)'\\':
                    escaped = true;
                    i = SkipEscape(json, i + 1);
                    if (i == Failed)
                    {
                        return Failed;
                    }

                    break;
                default:
                    return Failed;
            }
        }
    }

    // Up to what ends a string's plain run: its closing quote, an escape, or a control character (never allowed unescaped).
    // Most strings in envelopes are a few bytes long, which a plain loop gets through before a vector search gets going.
    private static int SkipPlainText(ReadOnlySpan<byte> json, int i)
    {
        var head = json.Slice(i, Math.Min(16, json.Length - i));
        for (var k = 0; k < head.Length; k++)
        {
            if (head[k] < 0x20 || head[k] == '"' || head[k] == '\\')
            {
                return i + k;
            }
        }

        var length = json[(i + head.Length)..].IndexOfAny(StringStops);
        return length < 0 ? json.Length : i + head.Length + length;
    }

    // After a backslash. A \u escape needs four hex digits; like Utf8JsonReader, it does not pair surrogates here.
    private static int SkipEscape(ReadOnlySpan<byte> json, int i)
    {
        if (i == json.Length)
        {
            return Failed;
        }

        return json[i] switch
        {
            (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t' => i + 1,
            (byte)'u' when json.Length - i > 4 && !json.Slice(i + 1, 4).ContainsAnyExcept(HexDigits) => i + 5,
            _ => Failed,
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SkipLiteral(ReadOnlySpan<byte> json, int i, ReadOnlySpan<byte> literal) =>
        json[i..].StartsWith(literal) ? i + literal.Length : Failed;

    // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? ; no whitespace inside, and what may follow is the caller's to check.
    private static int SkipNumber(ReadOnlySpan<byte> json, int i)
    {
        if (i < json.Length && json[i] == '-')
        {
            i++;
        }

        var integer = i < json.Length && json[i] == '0' ? i + 1 : SkipDigits(json, i);
        if (integer == i)
        {
            return Failed;
        }

        i = integer;
        if (i < json.Length && json[i] == '.')
        {
            var fraction = SkipDigits(json, i + 1);
            if (fraction == i + 1)
            {
                return Failed;
            }

            i = fraction;
        }

        if (i < json.Length && json[i] is (byte)'e' or (byte)'E')
        {
            var exponentStart = i + 1 < json.Length && json[i + 1] is (byte)'+' or (byte)'-' ? i + 2 : i + 1;
            i = SkipDigits(json, exponentStart);
            return i == exponentStart ? Failed : i;
        }

        return i;
    }

    private static int SkipDigits(ReadOnlySpan<byte> json, int i)
    {
        while (i < json.Length && char.IsAsciiDigit((char)json[i]))
        {
            i++;
        }

        return i;
    }
}
