namespace MeshActors.Messaging;

/// <summary>The topic router's answer to <see cref="Messaging.Unsubscribe"/>: no further message reaches the subscriber through the subscription that <see cref="Messaging.Subscribe"/> messages made (a handle from <see cref="IMesh.Subscribe(string, Actors.IActorRef)"/> may still hold it).</summary>
public sealed record UnsubscribeAck(Unsubscribe Unsubscribe);
