using MeshActors.Protocol;

namespace MeshActors.Messaging;

/// <summary>A request this node sent and waits for: completes with the provider's <c>res</c> or <c>err</c>, or fails when the provider goes away.</summary>
internal sealed class PendingRequest(long id, string service, RouteCandidate target)
    : TaskCompletionSource<Envelope>(TaskCreationOptions.RunContinuationsAsynchronously) // never run the caller's code on a read loop
{
    public long Id { get; } = id;

    public string Service { get; } = service;

    public RouteCandidate Target { get; } = target;
}
