namespace MeshActors.Messaging;

/// <summary>Asks the services actor to call <paramref name="Service"/> with <paramref name="Message"/>; answered with a <see cref="ServiceResponse"/> or a <c>Status.Failure</c> carrying the exception <see cref="IMesh.RequestAsync{TRequest, TResponse}(string, TRequest, RequestOptions?, CancellationToken)"/> would throw.</summary>
/// <remarks><paramref name="Message"/> is serialized by its runtime type with the node's <see cref="MeshOptions.Json"/>.</remarks>
public sealed record Request(string Service, object? Message)
{
    /// <summary>Timeout, idempotency and waiting for a provider; the defaults when null.</summary>
    public RequestOptions? Options { get; init; }

    /// <summary>Binary data that travels with the request; empty when none. A binary <see cref="Message"/> is already the attachment: with both, the answer is a <c>Status.Failure</c> with an <see cref="ArgumentException"/>.</summary>
    public ReadOnlyMemory<byte> Attachment { get; init; }
}
