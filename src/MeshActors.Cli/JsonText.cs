using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace MeshActors.Cli;

/// <summary>The JSON text of a received payload or value, where an absent <c>data</c> (a bare binary message) reads as <c>null</c>.</summary>
internal static class JsonText
{
    public static string Of(JsonElement element) => element.ValueKind == JsonValueKind.Undefined ? "null" : element.GetRawText();

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
