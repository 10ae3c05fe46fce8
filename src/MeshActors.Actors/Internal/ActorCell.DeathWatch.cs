using MeshActors.Actors.Dispatch;

namespace MeshActors.Actors.Internal;

// DeathWatch: exactly one Terminated per watch, at once for an actor that is already dead.
internal sealed partial class ActorCell
{
    private DeathWatchState? _deathWatch;

    public IActorRef Watch(IActorRef subject)
    {
        if (subject is not IInternalActorRef target)
        {
            throw new ArgumentException($"Cannot watch {subject}: not a reference of this kernel.", nameof(subject));
        }

        if (!ReferenceEquals(subject, Self) && (_deathWatch ??= new()).Watching.Add(subject))
        {
            target.SendSystemMessage(new Watch(target, Self));
        }

        return subject;
    }

    public IActorRef Unwatch(IActorRef subject)
    {
        if (_deathWatch is { } watch)
        {
            // A Terminated already queued for this subject is dropped when it comes up (see ReceivedTerminated).
            watch.TerminatedQueued.Remove(subject);
            if (watch.Watching.Remove(subject) && subject is IInternalActorRef target)
            {
                target.SendSystemMessage(new Unwatch(target, Self));
            }
        }

        return subject;
    }

    private void HandleWatch(Watch watch)
    {
        // A stopped cell answers watches in SystemInvokeAfterClose; until then the watcher is told when it stops.
        if (ReferenceEquals(watch.Watchee, Self) && !ReferenceEquals(watch.Watcher, Self))
        {
            (_deathWatch ??= new()).WatchedBy.Add(watch.Watcher);
        }
    }

    private void HandleUnwatch(Unwatch unwatch) => _deathWatch?.WatchedBy.Remove(unwatch.Watcher);

    private void HandleDeathWatchNotification(IActorRef actor)
    {
        if (_deathWatch is { } watch && watch.Watching.Remove(actor) && _state < CellState.Terminating)
        {
            // Queued behind the messages already waiting, as in Akka.NET: the actor sees them before the Terminated.
            watch.TerminatedQueued.Add(actor);
            Mailbox.PostInternal(new Envelope(new WatchedTerminated(new Terminated(actor)), actor));
        }

        HandleChildTerminated(actor);
    }

    private bool ReceivedTerminated(Terminated terminated)
    {
        if (_deathWatch is not { } watch || !watch.TerminatedQueued.Remove(terminated.ActorRef))
            return false; // unwatched since it was queued
        _current = new Envelope(terminated, terminated.ActorRef);
        ReceiveMessage(terminated);
        return true;
    }

    private void TellWatchersAndUnwatchAll()
    {
        if (_deathWatch is not { } watch)
        {
            return;
        }

        foreach (var watcher in watch.WatchedBy)
        {
            // The parent learns separately (it is told last, after the watchers).
            if (!ReferenceEquals(watcher, _parent?.Self))
            {
                watcher.SendSystemMessage(new DeathWatchNotification(Self));
            }
        }

        foreach (var subject in watch.Watching)
        {
            ((IInternalActorRef)subject).SendSystemMessage(new Unwatch((IInternalActorRef)subject, Self));
        }

        _deathWatch = null;
    }

    /// <summary>A <see cref="Terminated"/> queued by DeathWatch, delivered only if the watch still stands when it comes up.</summary>
    internal sealed class WatchedTerminated(Terminated terminated) : IAutoReceivedMessage
    {
        public Terminated Terminated { get; } = terminated;

        public override string ToString() => Terminated.ToString();
    }

    private sealed class DeathWatchState
    {
        public HashSet<IActorRef> Watching { get; } = [];

        public HashSet<IInternalActorRef> WatchedBy { get; } = [];

        public HashSet<IActorRef> TerminatedQueued { get; } = [];
    }
}
