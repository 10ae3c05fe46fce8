using System.Text.Json;

namespace MeshActors.Messaging;

/// <summary>A service's answer as it arrived; its sender is the node whose handler answered.</summary>
public sealed class ServiceResponse : MessageContext
{
    internal ServiceResponse(string service, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> attachment, string nodeId, string nodeName, JsonSerializerOptions json)
        : base(service, data, attachment, nodeId, nodeName, json)
    {
    }

    /// <summary>The service that answered.</summary>
    public string Service => Address;
}
