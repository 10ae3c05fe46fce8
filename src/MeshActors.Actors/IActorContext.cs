using Microsoft.Extensions.Logging;

namespace MeshActors.Actors;

/// <summary>What an actor may do about itself and its children; valid from its constructor on, on the actor's own turn only.</summary>
public interface IActorContext
{
    /// <summary>The actor's own reference.</summary>
    IActorRef Self { get; }

    /// <summary>The sender of the message being processed (the system's dead letters when there is none).</summary>
    IActorRef Sender { get; }

    /// <summary>The actor's parent (supervisor).</summary>
    IActorRef Parent { get; }

    /// <summary>The actor's live children.</summary>
    IEnumerable<IActorRef> Children { get; }

    /// <summary>The system the actor belongs to.</summary>
    ActorSystem System { get; }

    /// <summary>The props the actor was created from.</summary>
    Props Props { get; }

    /// <summary>A logger named after the actor's type.</summary>
    ILogger Log { get; }

    /// <summary>The child named <paramref name="name"/>, or <see cref="ActorRefs.Nobody"/>.</summary>
    IActorRef Child(string name);

    /// <summary>Creates a child; <paramref name="name"/> must be unique among its siblings (a "$a"-style name is generated when null).</summary>
    IActorRef ActorOf(Props props, string? name = null);

    /// <summary>Stops <paramref name="actor"/> (a child, or <c>Self</c>) after the message it is processing.</summary>
    void Stop(IActorRef actor);

    /// <summary>Delivers one <see cref="Terminated"/> when <paramref name="subject"/> stops (at once if it already has).</summary>
    IActorRef Watch(IActorRef subject);

    /// <summary>Withdraws a watch; a <see cref="Terminated"/> already queued for it is dropped.</summary>
    IActorRef Unwatch(IActorRef subject);

    /// <summary>Replaces the current behavior.</summary>
    void Become(Receive receive);

    /// <summary>Pushes a behavior, to be popped by <see cref="UnbecomeStacked"/>.</summary>
    void BecomeStacked(Receive receive);

    /// <summary>Returns to the behavior below the current one.</summary>
    void UnbecomeStacked();

    /// <summary>The receive timeout in effect, or null.</summary>
    TimeSpan? ReceiveTimeout { get; }

    /// <summary>
    /// Sends the actor <see cref="Actors.ReceiveTimeout"/> once it has gone <paramref name="timeout"/> without a
    /// message, then again after each further <paramref name="timeout"/> of silence; null clears it. Messages marked
    /// <see cref="INotInfluenceReceiveTimeout"/> do not count. Cleared on stop and restart, as timers are. A timeout
    /// longer than about 49.7 days (the .NET timer limit) is kept but never fires.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is zero or negative.</exception>
    void SetReceiveTimeout(TimeSpan? timeout);
}
