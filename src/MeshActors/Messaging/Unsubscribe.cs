using MeshActors.Actors;

namespace MeshActors.Messaging;

/// <summary>Ends the subscription that <see cref="Subscribe"/> messages made of <paramref name="Subscriber"/> to <paramref name="Topic"/>, however many came; answered with <see cref="UnsubscribeAck"/>.</summary>
/// <remarks>Handles from <see cref="IMesh.Subscribe(string, IActorRef)"/> for the same actor and topic go on until they are disposed.</remarks>
public sealed record Unsubscribe(string Topic, IActorRef Subscriber);
