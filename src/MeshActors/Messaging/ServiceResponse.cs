using System.Text.Json;

namespace MeshActors.Messaging;

/// <summary>A service's answer as it arrived: raw JSON, attachment, and which node gave it.</summary>
public sealed class ServiceResponse
{
    private readonly JsonSerializerOptions _json;

    internal ServiceResponse(string service, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> attachment, string nodeId, string nodeName, JsonSerializerOptions json)
    {
        Service = service;
        Data = data;
        Attachment = attachment;
        NodeId = nodeId;
        NodeName = nodeName;
        _json = json;
    }

    /// <summary>The service that answered.</summary>
    public string Service { get; }

    /// <summary>The response as UTF-8 JSON.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The binary attachment of the response; empty when none.</summary>
    public ReadOnlyMemory<byte> Attachment { get; }

    /// <summary>The id of the node whose handler answered.</summary>
    public string NodeId { get; }

    /// <summary>The name of the node whose handler answered.</summary>
    public string NodeName { get; }

    /// <summary>Reads the response as <typeparamref name="T"/> with <paramref name="options"/>, or with the node's <see cref="MeshOptions.Json"/> when null.</summary>
    /// <exception cref="JsonException">The JSON is not a <typeparamref name="T"/>.</exception>
    public T Deserialize<T>(JsonSerializerOptions? options = null) => Payload.Decode<T>(Data, Attachment, options ?? _json);
}
