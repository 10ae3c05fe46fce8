using MeshActors.Actors.Dispatch;

namespace MeshActors.Actors.Internal;

/// <summary>The common base of the kernel's references that are not promises: equality, printing, liveness.</summary>
internal abstract class ActorRefBase : IInternalActorRef
{
    public abstract ActorPath Path { get; }

    public virtual ActorSystem? System => null;

    public virtual bool IsTerminated => false;

    public abstract void Tell(object message, IActorRef? sender = null);

    public abstract void SendSystemMessage(SystemMessage message);

    public bool Equals(IActorRef? other) => ActorRefEquality.Equals(this, other);

    public override bool Equals(object? obj) => obj is IActorRef other && Equals(other);

    public override int GetHashCode() => Path.Uid;

    public override string ToString() => ActorRefEquality.ToString(this);

    /// <summary>For references that are not actors: a watcher learns at once that there is nothing to watch.</summary>
    protected void ReplyToWatchAsDead(SystemMessage message)
    {
        if (message is Watch watch && !ReferenceEquals(watch.Watcher, this))
        {
            watch.Watcher.SendSystemMessage(new DeathWatchNotification(this));
        }
    }
}
