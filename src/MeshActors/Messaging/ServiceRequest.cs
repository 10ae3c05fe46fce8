using System.Text.Json;

namespace MeshActors.Messaging;

/// <summary>A request as a service handler receives it: what an actor hosted with <see cref="IMesh.AddService(string, Actors.IActorRef)"/> gets, to answer with its response object (or a <c>Status.Failure</c>).</summary>
public sealed class ServiceRequest : MessageContext
{
    internal ServiceRequest(string service, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> attachment, string senderId, string senderName, CancellationToken cancellationToken, JsonSerializerOptions json)
        : base(service, data, attachment, senderId, senderName, json)
    {
        CancellationToken = cancellationToken;
    }

    /// <summary>The service it was addressed to.</summary>
    public string Service => Address;

    /// <summary>Fires when the requester cancels, gives up (its timeout passed) or disconnects.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>How long the requester waits, when its request said so.</summary>
    internal TimeSpan? Timeout { get; init; }
}
