using MeshActors.Actors.Internal;

namespace MeshActors.Actors;

/// <summary>
/// The base of every actor: state touched only by its own messages, one message at a time. Create actors with
/// <see cref="Props"/> and <c>ActorOf</c>, never with <c>new</c>.
/// </summary>
public abstract class ActorBase
{
    private readonly ActorCell _cell;
    private SupervisorStrategy? _supervisorStrategy;

    /// <summary>Binds the actor to the cell creating it; <see cref="IWithTimers.Timers"/> and <see cref="IWithStash.Stash"/> are set here.</summary>
    protected ActorBase()
    {
        _cell = ActorCell.TakeConstructing()
            ?? throw new ActorInitializationException(
                null, $"{GetType().Name} must be created through Props and ActorOf, not with 'new'.");

        if (this is IWithTimers withTimers)
        {
            withTimers.Timers = _cell.NewTimers();
        }

        if (this is IWithStash withStash)
        {
            withStash.Stash = new UnboundedStash(_cell);
        }
    }

    /// <summary>The actor's own reference.</summary>
    protected IActorRef Self => _cell.Self;

    /// <summary>The sender of the message being processed (the system's dead letters when there is none).</summary>
    protected IActorRef Sender => _cell.Sender;

    /// <summary>The actor's context (children, watch, behaviors, logger); usable from the constructor on.</summary>
    protected IActorContext Context => _cell;

    internal ActorCell Cell => _cell;

    internal SupervisorStrategy SupervisorStrategyInternal => _supervisorStrategy ??= SupervisorStrategy();

    /// <summary>Handles <paramref name="message"/> and returns true, or returns false to treat it as unhandled.</summary>
    protected internal abstract bool Receive(object message);

    /// <summary>Runs before the first message (after the constructor), and by default after a restart.</summary>
    protected virtual void PreStart()
    {
    }

    /// <summary>Runs once the actor has stopped, after its children have.</summary>
    protected virtual void PostStop()
    {
    }

    /// <summary>Runs on the failed instance before a restart; by default stops (and unwatches) every child, then runs <see cref="PostStop"/>.</summary>
    protected virtual void PreRestart(Exception reason, object? message)
    {
        foreach (var child in Context.Children)
        {
            Context.Unwatch(child);
            Context.Stop(child);
        }

        PostStop();
    }

    /// <summary>Runs on the new instance after a restart; by default runs <see cref="PreStart"/>.</summary>
    protected virtual void PostRestart(Exception reason) => PreStart();

    /// <summary>How this actor supervises its children (called once per instance); <see cref="Props.WithSupervisorStrategy"/> overrides it.</summary>
    protected virtual SupervisorStrategy SupervisorStrategy() => global::MeshActors.Actors.SupervisorStrategy.DefaultStrategy;

    /// <summary>
    /// Called for a message the behavior did not handle: an unhandled <see cref="Terminated"/> throws
    /// <see cref="DeathPactException"/>; anything else is published as <see cref="UnhandledMessage"/>, except an
    /// <see cref="UnhandledMessage"/> or a <see cref="DeadLetter"/> itself (an event an actor subscribed to
    /// <see cref="object"/> left unhandled), which is only logged.
    /// </summary>
    protected virtual void Unhandled(object message)
    {
        if (message is Terminated terminated)
        {
            throw new DeathPactException(terminated.ActorRef);
        }

        _cell.System.LogUnhandled(message, Self);
        if (message is not (UnhandledMessage or DeadLetter))
        {
            // Publishing those would hand them back to a subscriber to object that leaves them unhandled, without end.
            _cell.System.EventStream.Publish(new UnhandledMessage(message, Sender, Self));
        }
    }

    internal void AroundUnhandled(object message) => Unhandled(message);

    internal virtual void OnConstructed()
    {
    }

    internal void AroundPreStart() => PreStart();

    // Timers are cancelled before and after the hook: one the hook starts would otherwise tick into the next instance.
    internal void AroundPostStop()
    {
        (this as IWithTimers)?.Timers.CancelAll();
        ((this as IWithStash)?.Stash as UnboundedStash)?.DeadLetterAll();
        try
        {
            PostStop();
        }
        finally
        {
            (this as IWithTimers)?.Timers.CancelAll();
        }
    }

    internal void AroundPreRestart(Exception reason, object? message)
    {
        (this as IWithTimers)?.Timers.CancelAll();
        (this as IWithStash)?.Stash.UnstashAll();
        try
        {
            PreRestart(reason, message);
        }
        finally
        {
            (this as IWithTimers)?.Timers.CancelAll();
        }
    }

    internal void AroundPostRestart(Exception reason) => PostRestart(reason);
}
