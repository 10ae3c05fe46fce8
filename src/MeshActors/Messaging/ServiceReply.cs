namespace MeshActors.Messaging;

/// <summary>
/// A service's answer that carries binary data beside its JSON: what a handler returns
/// (<c>AddService&lt;TRequest, ServiceReply&gt;</c>) or a handler actor replies when one answer holds both.
/// </summary>
/// <remarks>
/// <paramref name="Message"/> is serialized by its runtime type with the node's <see cref="MeshOptions.Json"/>; the
/// caller reads the JSON and the bytes from a <see cref="ServiceResponse"/>. The bytes travel without base64 and
/// without being copied: do not change them afterwards.
/// </remarks>
public sealed record ServiceReply(object? Message)
{
    /// <summary>Binary data that travels with the answer; empty when none. A binary <see cref="Message"/> is already the attachment: with both, the caller gets a <see cref="RemoteServiceException"/> for an <see cref="ArgumentException"/>.</summary>
    public ReadOnlyMemory<byte> Attachment { get; init; }
}
