using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace MeshActors.Cli;

/// <summary>The JSON text of a received payload or value, where an absent <c>data</c> (a bare binary message) reads as <c>null</c>.</summary>
internal static class JsonText
{
    /// <summary>The text of <paramref name="element"/> on one line, as <see cref="Compact"/> makes it: one value per line, for jq.</summary>
    public static string Of(JsonElement element) => element.ValueKind == JsonValueKind.Undefined ? "null" : Encoding.UTF8.GetString(Compact(element));

    /// <summary>
    /// The JSON of <paramref name="element"/> on one line: its bytes as they came, less the whitespace between tokens.
    /// Written again instead, a string escaping a lone surrogate (<c>"\ud800"</c>, what Python writes for one) would
    /// throw: System.Text.Json reads such a string but refuses to write it.
    /// </summary>
    public static byte[] Compact(JsonElement element)
    {
        var raw = JsonMarshal.GetRawUtf8Value(element);
        var compact = new byte[raw.Length];
        var length = 0;
        var inString = false;
        var escaped = false;
        foreach (var b in raw)
        {
            if (inString)
            {
                if (escaped)
                    escaped = false;
                else if (b == '\\')
                    escaped = true;
                else if (b == '"')
                    inString = false;
            }
            else if (b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
            {
                continue;
            }
            else if (b == '"')
            {
                inString = true;
            }

            compact[length++] = b;
        }

        return compact[..length];
    }

    /// <summary>
    /// Escapes only what JSON requires, for lines that scripts and people read (never HTML): a value that went through
    /// the serializer, as a dictionary's values do, has "a+b" as "a\u002Bb" in its raw text.
    /// </summary>
    public static readonly JsonWriterOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The text of <paramref name="element"/> written with <see cref="Relaxed"/> escaping.</summary>
    public static string Readable(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Undefined)
            return "null";
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, Relaxed))
            element.WriteTo(json);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
