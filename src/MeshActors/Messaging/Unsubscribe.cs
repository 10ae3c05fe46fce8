using MeshActors.Actors;

namespace MeshActors.Messaging;

/// <summary>Asks the topic router to stop delivering <paramref name="Topic"/> to <paramref name="Subscriber"/>; answered with <see cref="UnsubscribeAck"/>.</summary>
public sealed record Unsubscribe(string Topic, IActorRef Subscriber);
