namespace MeshActors.Messaging;

/// <summary>The topic router's answer to <see cref="Messaging.Unsubscribe"/>: no further message reaches the subscriber through this subscription.</summary>
public sealed record UnsubscribeAck(Unsubscribe Unsubscribe);
