using System.Text.Json.Serialization;

namespace MeshActors.Protocol;

internal abstract partial record Envelope
{
    /// <summary>An error: the answer to a failed request when <see cref="Id"/> is set, otherwise a complaint about the channel or a frame.</summary>
    public sealed record Err(
        [property: JsonPropertyName("code"), JsonPropertyOrder(1)] string Code,
        [property: JsonPropertyName("msg"), JsonPropertyOrder(2)] string Message) : Envelope(WireNames.ErrType)
    {
        /// <summary>The id of the request this answers; null when it answers none.</summary>
        [JsonPropertyName("id"), JsonPropertyOrder(0)]
        public long? Id { get; init; }

        /// <summary>With <see cref="ErrorCodes.HandlerError"/>: the type name of the exception the handler raised.</summary>
        [JsonPropertyName("type"), JsonPropertyOrder(3)]
        public string? ExceptionType { get; init; }

        /// <summary>The err frame that reports <paramref name="exception"/> to the peer.</summary>
        public static Err From(MeshProtocolException exception) => new(exception.Code, exception.Message) { Id = exception.RequestId };
    }
}
