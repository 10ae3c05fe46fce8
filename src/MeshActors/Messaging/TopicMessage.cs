using System.Text.Json;

namespace MeshActors.Messaging;

/// <summary>A message on a topic as a subscriber receives it.</summary>
/// <remarks>One instance is shared by every local subscriber of the message: treat it as immutable.</remarks>
public sealed class TopicMessage : MessageContext
{
    internal TopicMessage(string topic, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> attachment, string senderId, string senderName, JsonSerializerOptions json)
        : base(topic, data, attachment, senderId, senderName, json)
    {
    }

    /// <summary>The topic it was published on.</summary>
    public string Topic => Address;
}
