using System.Text.Json;
using MeshActors.Protocol;

namespace MeshActors.Messaging;

/// <summary>A message as it arrived, and where it came from: its raw JSON and attachment, the address it was sent to, and the sending node.</summary>
/// <remarks>
/// What typed handlers get beside their value, and the base of what actors receive (<see cref="TopicMessage"/>,
/// <see cref="ServiceRequest"/>, <see cref="ServiceResponse"/>). One instance may be shared by several local
/// subscribers: treat it as immutable.
/// </remarks>
public abstract class MessageContext
{
    private readonly JsonSerializerOptions _json;

    private protected MessageContext(string address, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> attachment, string senderId, string senderName, JsonSerializerOptions json)
    {
        Address = address;
        Data = data;
        Attachment = attachment;
        SenderId = senderId;
        SenderName = senderName;
        _json = json;
    }

    /// <summary>The topic or service name it was addressed to.</summary>
    public string Address { get; }

    /// <summary>The message as UTF-8 JSON (<c>null</c> when it carried none).</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The binary attachment that travelled with it; empty when none.</summary>
    public ReadOnlyMemory<byte> Attachment { get; }

    /// <summary>The sending node's id.</summary>
    public string SenderId { get; }

    /// <summary>The sending node's name.</summary>
    public string SenderName { get; }

    /// <summary>The W3C <c>traceparent</c> of the sending span, to continue the trace from an actor; null when none.</summary>
    public string? TraceParent => Trace?.Parent;

    /// <summary>The W3C <c>tracestate</c> that came with <see cref="TraceParent"/>; null when none.</summary>
    public string? TraceState => Trace?.State;

    internal TraceContext? Trace { get; init; }

    /// <summary>What it weighs: its JSON and its attachment.</summary>
    internal long Size => Data.Length + Attachment.Length;

    /// <summary>Reads the message as <typeparamref name="T"/> with <paramref name="options"/>, or with the node's <see cref="MeshOptions.Json"/> when null.</summary>
    /// <remarks><c>ReadOnlyMemory&lt;byte&gt;</c> and <c>byte[]</c> read the attachment; <see cref="JsonElement"/> reads the JSON as is.</remarks>
    /// <exception cref="JsonException">The JSON is not a <typeparamref name="T"/>.</exception>
    public T Deserialize<T>(JsonSerializerOptions? options = null) => Payload.Decode<T>(Data, Attachment, options ?? _json);

    /// <inheritdoc />
    public override string ToString() => $"{GetType().Name}({Address}, {Data.Length} bytes from {SenderName}/{SenderId})";
}
