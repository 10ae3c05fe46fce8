using System.Text.Json;

namespace MeshActors.Protocol;

/// <summary>Finds one member of a JSON object without reading the rest: what a frame says its type is, before or without decoding it.</summary>
internal static class TopLevelMember
{
    /// <summary>Moves <paramref name="reader"/> onto the value of the object's member <paramref name="name"/>; false when the JSON is no object or has no such member.</summary>
    /// <exception cref="JsonException">The JSON is malformed before the member.</exception>
    public static bool TryFind(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            return false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var found = reader.ValueTextEquals(name);
            if (!reader.Read())
                return false;
            if (found)
                return true;
            reader.Skip();
        }

        return false;
    }
}
