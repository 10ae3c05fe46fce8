using MeshActors.Actors;

namespace MeshActors.Messaging;

/// <summary>Asks the services actor to host <paramref name="Service"/> on this node with <paramref name="Handler"/>, which receives each <see cref="ServiceRequest"/> and answers it; answered with <see cref="ServiceHosted"/>.</summary>
/// <remarks>The service is withdrawn with <see cref="StopService"/> or when the handler stops.</remarks>
public sealed record HostService(string Service, IActorRef Handler)
{
    /// <summary>Set by <see cref="IMesh.AddService(string, IActorRef)"/>, so that its handle withdraws only the service it hosted.</summary>
    internal long Registration { get; init; }
}
