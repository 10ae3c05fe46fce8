using System.Text.Json;
using MeshActors.Protocol;

namespace MeshActors.Messaging;

/// <summary>A request as a service handler receives it: what an actor hosted with <see cref="IMesh.AddService(string, Actors.IActorRef)"/> gets, to answer with its response object (or a <c>Status.Failure</c>).</summary>
public sealed class ServiceRequest
{
    private readonly JsonSerializerOptions _json;

    internal ServiceRequest(string service, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> attachment, string senderId, string senderName, CancellationToken cancellationToken, JsonSerializerOptions json)
    {
        Service = service;
        Data = data;
        Attachment = attachment;
        SenderId = senderId;
        SenderName = senderName;
        CancellationToken = cancellationToken;
        _json = json;
    }

    /// <summary>The service it was addressed to.</summary>
    public string Service { get; }

    /// <summary>The request as UTF-8 JSON.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The binary attachment of the request; empty when none.</summary>
    public ReadOnlyMemory<byte> Attachment { get; }

    /// <summary>The requesting node's id.</summary>
    public string SenderId { get; }

    /// <summary>The requesting node's name.</summary>
    public string SenderName { get; }

    /// <summary>Fires when the requester cancels, gives up (its timeout passed) or disconnects.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The W3C <c>traceparent</c> of the requesting span, to continue the trace from an actor; null when none.</summary>
    public string? TraceParent => Trace?.Parent;

    /// <summary>The W3C <c>tracestate</c> that came with <see cref="TraceParent"/>; null when none.</summary>
    public string? TraceState => Trace?.State;

    internal TraceContext? Trace { get; init; }

    /// <summary>Where it came from, as handlers see it.</summary>
    public MessageContext Context => new() { Address = Service, SenderId = SenderId, SenderName = SenderName, Attachment = Attachment };

    /// <summary>Reads the request as <typeparamref name="T"/> with <paramref name="options"/>, or with the node's <see cref="MeshOptions.Json"/> when null.</summary>
    /// <exception cref="JsonException">The JSON is not a <typeparamref name="T"/>.</exception>
    public T Deserialize<T>(JsonSerializerOptions? options = null) => Payload.Decode<T>(Data, Attachment, options ?? _json);
}
