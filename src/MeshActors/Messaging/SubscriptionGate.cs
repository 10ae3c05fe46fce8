using MeshActors.Actors;

namespace MeshActors.Messaging;

/// <summary>
/// One actor's subscription to one topic, as the routes hold it. Publishes tell the actor through it, from a snapshot
/// of the routes and on their own threads; the router closes it before it acknowledges the end of the subscription,
/// so that no message is told after <see cref="UnsubscribeAck"/> (a registration's disposal takes effect once the
/// router has taken it: a message published meanwhile may still arrive).
/// </summary>
internal sealed class SubscriptionGate
{
    private readonly Lock _lock = new();
    private bool _closed;

    /// <summary>Tells <paramref name="actor"/> <paramref name="message"/>; false when the subscription has ended.</summary>
    public bool TryTell(IActorRef actor, object message)
    {
        lock (_lock)
        {
            if (_closed)
                return false;
            actor.Tell(message, ActorRefs.NoSender);
            return true;
        }
    }

    /// <summary>Ends the subscription: once this returns, nothing more is told through it.</summary>
    public void Close()
    {
        lock (_lock)
            _closed = true;
    }
}
