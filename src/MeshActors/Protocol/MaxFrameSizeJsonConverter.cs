using System.Text.Json;
using System.Text.Json.Serialization;

namespace MeshActors.Protocol;

/// <summary>
/// A hello's <c>max_frame</c>, where <c>null</c> means absent (docs/protocol.md 4.1) and so the default: the serializer
/// would refuse a null for an <see cref="int"/>, and a nullable parameter could not bind to the property.
/// </summary>
internal sealed class MaxFrameSizeJsonConverter : JsonConverter<int>
{
    public override int Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? ProtocolOptions.DefaultMaxFrameSize : reader.GetInt32();

    public override void Write(Utf8JsonWriter writer, int value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
}
