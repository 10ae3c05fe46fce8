using MeshActors.Actors;

namespace MeshActors.Messaging;

/// <summary>Asks the topic router to deliver every message on <paramref name="Topic"/> to <paramref name="Subscriber"/> as a <see cref="TopicMessage"/>; answered with <see cref="SubscribeAck"/>.</summary>
/// <remarks>
/// Idempotent: sending it again for the same topic and subscriber changes nothing, and one <see cref="Unsubscribe"/>
/// ends it, as does the subscriber's stop. An actor subscribed here and through <see cref="IMesh.Subscribe(string, IActorRef)"/>
/// handles gets each message once, until both this subscription and every handle have ended.
/// </remarks>
public sealed record Subscribe(string Topic, IActorRef Subscriber);
