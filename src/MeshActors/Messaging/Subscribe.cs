using MeshActors.Actors;

namespace MeshActors.Messaging;

/// <summary>Asks the topic router to deliver every message on <paramref name="Topic"/> to <paramref name="Subscriber"/> as a <see cref="TopicMessage"/>; answered with <see cref="SubscribeAck"/>.</summary>
/// <remarks>The subscription ends with <see cref="Unsubscribe"/> or when the subscriber stops.</remarks>
public sealed record Subscribe(string Topic, IActorRef Subscriber);
