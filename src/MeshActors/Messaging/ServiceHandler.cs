namespace MeshActors.Messaging;

/// <summary>Answers one request of a hosted service: what every kind of handler (typed, sync, async, actor) becomes.</summary>
internal delegate ValueTask<EncodedReply> ServiceHandler(ServiceRequest request);

/// <summary>A service's answer, encoded.</summary>
internal readonly record struct EncodedReply(ReadOnlyMemory<byte> Data, ReadOnlyMemory<byte> Attachment);

/// <summary>The request's data could not be read as the service's request type: answered with <c>bad_request</c>.</summary>
internal sealed class BadRequestException(string message, Exception inner) : Exception(message, inner);
