using System.Text.Json;
using MeshActors.Protocol;

namespace MeshActors.Messaging;

/// <summary>A message on a topic as a subscriber receives it: the raw JSON, who sent it, and its attachment.</summary>
/// <remarks>One instance is shared by every local subscriber of the message: treat it as immutable.</remarks>
public sealed class TopicMessage
{
    private readonly JsonSerializerOptions _json;

    internal TopicMessage(string topic, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> attachment, string senderId, string senderName, JsonSerializerOptions json)
    {
        Topic = topic;
        Data = data;
        Attachment = attachment;
        SenderId = senderId;
        SenderName = senderName;
        _json = json;
    }

    /// <summary>The topic it was published on.</summary>
    public string Topic { get; }

    /// <summary>The message as UTF-8 JSON (<c>null</c> when it carried none).</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The binary attachment that travelled with it; empty when none.</summary>
    public ReadOnlyMemory<byte> Attachment { get; }

    /// <summary>What it weighs: its JSON and its attachment.</summary>
    internal long Size => Data.Length + Attachment.Length;

    /// <summary>The publishing node's id.</summary>
    public string SenderId { get; }

    /// <summary>The publishing node's name.</summary>
    public string SenderName { get; }

    /// <summary>The W3C <c>traceparent</c> of the publishing span, to continue the trace from an actor; null when none.</summary>
    public string? TraceParent => Trace?.Parent;

    /// <summary>The W3C <c>tracestate</c> that came with <see cref="TraceParent"/>; null when none.</summary>
    public string? TraceState => Trace?.State;

    internal TraceContext? Trace { get; init; }

    /// <summary>Where it came from, as handlers see it.</summary>
    public MessageContext Context => new() { Address = Topic, SenderId = SenderId, SenderName = SenderName, Attachment = Attachment };

    /// <summary>Reads the message as <typeparamref name="T"/> with <paramref name="options"/>, or with the node's <see cref="MeshOptions.Json"/> when null.</summary>
    /// <remarks><c>ReadOnlyMemory&lt;byte&gt;</c> and <c>byte[]</c> read the attachment; <see cref="JsonElement"/> reads the JSON as is.</remarks>
    /// <exception cref="JsonException">The JSON is not a <typeparamref name="T"/>.</exception>
    public T Deserialize<T>(JsonSerializerOptions? options = null) => Payload.Decode<T>(Data, Attachment, options ?? _json);

    /// <inheritdoc />
    public override string ToString() => $"TopicMessage({Topic}, {Data.Length} bytes from {SenderName}/{SenderId})";
}
