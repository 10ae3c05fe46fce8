namespace MeshActors.Messaging;

/// <summary>The topic router's answer to <see cref="Messaging.Subscribe"/>: the subscription is active on this node and being announced to the others.</summary>
public sealed record SubscribeAck(Subscribe Subscribe);
