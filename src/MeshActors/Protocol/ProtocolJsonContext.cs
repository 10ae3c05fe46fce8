using System.Text.Json.Serialization;

namespace MeshActors.Protocol;

/// <summary>Source-generated JSON for the envelopes off the hot path; the hot ones are hand-written in <see cref="EnvelopeEncoder"/> and <see cref="EnvelopeDecoder"/>.</summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    MaxDepth = WireProtocol.MaxDepth,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(Envelope.Hello))]
[JsonSerializable(typeof(Envelope.Err))]
[JsonSerializable(typeof(Envelope.Interest))]
[JsonSerializable(typeof(Envelope.Bye))]
internal sealed partial class ProtocolJsonContext : JsonSerializerContext;
