namespace MeshActors.Messaging;

/// <summary>Asks the topic router to publish <paramref name="Message"/> on <paramref name="Topic"/>; fire and forget, no answer.</summary>
/// <remarks>
/// <paramref name="Message"/> is serialized by its runtime type with the node's <see cref="MeshOptions.Json"/>; a
/// <see cref="System.Text.Json.JsonElement"/> travels as is. A peer whose queue is full does not get it (counted in
/// <see cref="MessagingStats.DroppedSends"/>): an actor is never made to wait.
/// </remarks>
public sealed record Publish(string Topic, object? Message)
{
    /// <summary>Binary data that travels with the message, without base64; empty when none. A binary <see cref="Message"/> is already the attachment: with both, the publish is refused and logged.</summary>
    public ReadOnlyMemory<byte> Attachment { get; init; }
}
