using MeshActors.Actors.Dispatch;

namespace MeshActors.Actors.Internal;

/// <summary>The temporary watcher behind <c>GracefulStop</c>: true when the target's termination arrives, false at the timeout.</summary>
internal sealed class StopWatcherRef : TaskCompletionSource<bool>, IInternalActorRef
{
    private readonly IInternalActorRef _target;
    private readonly int _id;
    private Timer? _timer;

    public StopWatcherRef(IInternalActorRef target, ActorSystem system)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        _target = target;
        System = system;
        _id = system.NextTempId();
        Path = system.TempPath(_id);
    }

    public ActorPath Path { get; }

    public ActorSystem System { get; }

    public bool IsTerminated => Task.IsCompleted;

    public void Start(TimeSpan timeout)
    {
        _timer = new Timer(static state => ((StopWatcherRef)state!).OnTimeout(), this, TimerDuration.Clamp(timeout), Timeout.InfiniteTimeSpan);
        _target.SendSystemMessage(new Watch(_target, this));
    }

    public void Tell(object message, IActorRef? sender = null) => System.DeadLetter(message, sender, this);

    public void SendSystemMessage(SystemMessage message)
    {
        if (message is DeathWatchNotification notification && notification.Actor.Equals(_target) && TrySetResult(true))
        {
            _timer?.Dispose();
        }
    }

    private void OnTimeout()
    {
        if (TrySetResult(false))
        {
            _target.SendSystemMessage(new Unwatch(_target, this));
        }
    }

    public bool Equals(IActorRef? other) => ActorRefEquality.Equals(this, other);

    public override bool Equals(object? obj) => obj is IActorRef other && Equals(other);

    public override int GetHashCode() => _id;

    public override string ToString() => ActorRefEquality.ToString(this);
}
