using System.Text.Json;

namespace MeshActors.Protocol;

/// <summary>Finds one member of a JSON object: what a frame says its type is, before or without decoding it.</summary>
internal static class TopLevelMember
{
    /// <summary>
    /// Moves <paramref name="reader"/> onto the value of the object's member <paramref name="name"/>, its last occurrence
    /// when it repeats (docs/protocol.md 4.1: the last one wins); false when the JSON is no object or has no such member.
    /// </summary>
    /// <exception cref="JsonException">The JSON is malformed.</exception>
    public static bool TryFind(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            return false;
        var found = false;
        var last = reader;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var named = TextIs(ref reader, name);
            if (!reader.Read())
                break;
            if (named)
            {
                last = reader; // a copy, positioned on the value
                found = true;
            }

            reader.Skip();
        }

        if (found)
            reader = last;
        return found;
    }

    /// <summary>Whether the current token's text is <paramref name="text"/>; false for a text escaping a lone surrogate, valid JSON that no name of the protocol is.</summary>
    public static bool TextIs(ref Utf8JsonReader reader, ReadOnlySpan<byte> text)
    {
        try
        {
            return reader.ValueTextEquals(text);
        }
        catch (InvalidOperationException)
        {
            return false; // the reader cannot unescape it to compare
        }
    }
}
