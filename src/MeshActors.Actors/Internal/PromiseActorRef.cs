using MeshActors.Actors.Dispatch;

namespace MeshActors.Actors.Internal;

/// <summary>
/// The temporary reference behind an <c>Ask</c>: not an actor, just a task completed by the first reply, by a
/// timeout, by cancellation, or at once when the question becomes a dead letter. One object per ask (it is the
/// <see cref="TaskCompletionSource{TResult}"/> itself); its path (<c>/temp/$n</c>) is built only if someone looks.
/// </summary>
internal sealed class PromiseActorRef<T> : TaskCompletionSource<T>, IInternalActorRef, IPromiseActorRef
{
    private readonly ActorSystem _system;
    private readonly IActorRef _recipient;
    private readonly object _question;
    private readonly int _id;
    private readonly TimeSpan _timeout;
    private ActorPath? _path;
    private Timer? _timer;
    private CancellationTokenRegistration _cancellation;
    /// <summary>Who watches the promise until it completes; <see cref="Completed"/> once they have been told.</summary>
    private IInternalActorRef[]? _watchers;

    // An array of its own, never Array.Empty, so that no list of watchers can be taken for it.
    private static readonly IInternalActorRef[] Completed = new IInternalActorRef[0];

    public PromiseActorRef(ActorSystem system, IActorRef recipient, object message, TimeSpan timeout)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        _system = system;
        _recipient = recipient;
        _question = message;
        _timeout = timeout;
        _id = system.NextTempId();
    }

    public ActorPath Path => _path ??= _system.TempPath(_id);

    public ActorSystem System => _system;

    public bool IsTerminated => Task.IsCompleted;

    /// <summary>Arms the timeout and the cancellation; call before the question is sent so that a reply always finds them.</summary>
    public void Start(CancellationToken cancellationToken)
    {
        if (_timeout != Timeout.InfiniteTimeSpan)
        {
            _timer = new Timer(static state => ((PromiseActorRef<T>)state!).OnTimeout(), this, TimerDuration.Clamp(_timeout), Timeout.InfiniteTimeSpan);
        }

        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(
                static (state, token) => ((PromiseActorRef<T>)state!).OnCanceled(token), this);
        }
    }

    public void Tell(object message, IActorRef? sender = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        bool completed;
        if (message is Status.Failure failure && typeof(T) != typeof(Status.Failure) && typeof(T) != typeof(Status))
        {
            completed = TrySetException(failure.Cause);
        }
        else if (message is T reply)
        {
            completed = TrySetResult(reply);
        }
        else
        {
            completed = TrySetException(new InvalidCastException(
                $"Ask of {_question.GetType().Name} to {_recipient.Path} expected a reply of type {typeof(T).Name} but got {message.GetType().Name}."));
        }

        if (completed)
        {
            Cleanup();
        }
        else
        {
            _system.DeadLetter(message, sender, this);
        }
    }

    /// <summary>A watcher learns that the promise is gone when it completes (as in Akka.NET), not while it waits for its reply.</summary>
    public void SendSystemMessage(SystemMessage message)
    {
        switch (message)
        {
            case Watch watch when !ReferenceEquals(watch.Watcher, this):
                // Lock-free, so that completing an ask nobody watches costs one exchange.
                while (true)
                {
                    var watchers = Volatile.Read(ref _watchers);
                    if (ReferenceEquals(watchers, Completed))
                    {
                        watch.Watcher.SendSystemMessage(new DeathWatchNotification(this));
                        return;
                    }

                    if (ReferenceEquals(Interlocked.CompareExchange(ref _watchers, [.. watchers ?? [], watch.Watcher], watchers), watchers))
                        return;
                }

            case Unwatch unwatch:
                while (Volatile.Read(ref _watchers) is { } watchers && !ReferenceEquals(watchers, Completed))
                {
                    var remaining = watchers.Where(watcher => !watcher.Equals(unwatch.Watcher)).ToArray();
                    if (ReferenceEquals(Interlocked.CompareExchange(ref _watchers, remaining.Length == 0 ? null : remaining, watchers), watchers))
                        return;
                }

                break;
        }
    }

    /// <summary>
    /// The question became a dead letter (the recipient is stopped or its bounded mailbox is full): fail at once. A
    /// dead letter of anything else sent with the promise as its sender (a recipient telling a stopped actor on the
    /// asker's behalf) is no answer: the ask still waits for its reply, as in Akka.NET.
    /// </summary>
    public void FailUndelivered(IActorRef recipient, object message, bool overflow)
    {
        if (ReferenceEquals(message, _question) && TrySetException(overflow ? new MailboxOverflowException(recipient, message) : new ActorTerminatedException(recipient, message)))
        {
            Cleanup();
        }
    }

    private void OnTimeout()
    {
        if (TrySetException(new AskTimeoutException(
                $"Ask of {_question.GetType().Name} to {_recipient.Path} got no reply within {_timeout.TotalMilliseconds:0} ms.")))
        {
            Cleanup();
        }
    }

    private void OnCanceled(CancellationToken token)
    {
        if (TrySetCanceled(token))
        {
            Cleanup();
        }
    }

    private void Cleanup()
    {
        _timer?.Dispose();
        _cancellation.Dispose();
        var watchers = Interlocked.Exchange(ref _watchers, Completed);
        if (watchers is null || ReferenceEquals(watchers, Completed))
        {
            return;
        }

        foreach (var watcher in watchers)
        {
            watcher.SendSystemMessage(new DeathWatchNotification(this));
        }
    }

    public bool Equals(IActorRef? other) => ActorRefEquality.Equals(this, other);

    public override bool Equals(object? obj) => obj is IActorRef other && Equals(other);

    public override int GetHashCode() => _id;

    public override string ToString() => ActorRefEquality.ToString(this);
}
