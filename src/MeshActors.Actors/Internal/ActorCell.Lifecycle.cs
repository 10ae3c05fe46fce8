using MeshActors.Actors.Dispatch;

namespace MeshActors.Actors.Internal;

// Creation, restart and termination, and the dispatch of system messages.
internal sealed partial class ActorCell
{
    public void SendSystemMessage(SystemMessage message) => Mailbox.PostSystem(message);

    public void SystemInvoke(SystemMessage message)
    {
        if (_state == CellState.Terminated)
        {
            SystemInvokeAfterClose(message);
            return;
        }

        try
        {
            switch (message)
            {
                case Create:
                    CreateActor(restartCause: null);
                    break;
                case Terminate:
                    HandleTerminate();
                    break;
                case DeathWatchNotification notification:
                    HandleDeathWatchNotification(notification.Actor);
                    break;
                case Watch watch:
                    HandleWatch(watch);
                    break;
                case Unwatch unwatch:
                    HandleUnwatch(unwatch);
                    break;
                case Failed failed:
                    HandleFailed(failed);
                    break;
                case Recreate recreate:
                    HandleRecreate(recreate.Cause);
                    break;
                case Resume:
                    HandleResume();
                    break;
                case AsyncCompleted completed:
                    HandleAsyncCompleted(completed);
                    break;
                case RunContinuation continuation:
                    HandleContinuation(continuation);
                    break;
            }
        }
        catch (Exception exception)
        {
            System.LogInternalError(exception, Self);
        }
    }

    /// <summary>A system message that reached a stopped actor; thread-safe, as posters drain after close too.</summary>
    public void SystemInvokeAfterClose(SystemMessage message)
    {
        if (message is Watch watch && ReferenceEquals(watch.Watchee, Self) && !ReferenceEquals(watch.Watcher, Self))
        {
            watch.Watcher.SendSystemMessage(new DeathWatchNotification(Self));
        }
    }

    private void CreateActor(Exception? restartCause)
    {
        _actor = null;
        _failed = false;
        _escalatingChildren = null; // stopped with the failed instance
        ActorBase actor;
        try
        {
            t_constructing = this;
            actor = _props.NewActor();
        }
        catch (Exception exception)
        {
            // No instance holds the timers its constructor started: nothing else would ever cancel them.
            _constructorTimers?.CancelAll();
            FailInitialization(exception, "constructor");
            return;
        }
        finally
        {
            t_constructing = null;
            _constructorTimers = null;
        }

        _actor = actor;
        actor.OnConstructed();
        _state = CellState.Running;
        try
        {
            if (restartCause is null)
            {
                actor.AroundPreStart();
            }
            else
            {
                actor.AroundPostRestart(restartCause);
            }
        }
        catch (Exception exception)
        {
            FailInitialization(exception, restartCause is null ? "PreStart" : "PostRestart");
            return;
        }

        UpdateSuspension();
    }

    private void FailInitialization(Exception exception, string where)
    {
        _state = CellState.Running;
        HandleInvokeFailure(new ActorInitializationException(
            Self, $"{_props.ActorType.Name} at {Self.Path} failed in its {where}: {exception.Message}", exception));
    }

    private void HandleTerminate()
    {
        if (_state >= CellState.Terminating)
        {
            return;
        }

        // Closing the container is atomic with its snapshot: a concurrent ActorOf (on a guardian) either lands
        // before and is stopped below, or throws. A cell that never had children shares one closed, empty container.
        _state = CellState.Terminating;
        var children = Interlocked.CompareExchange(ref _children, ChildrenContainer.ClosedEmpty, null) ?? ChildrenContainer.ClosedEmpty;
        var toStop = children.StopAll();
        UpdateSuspension();
        foreach (var child in toStop)
        {
            child.SendSystemMessage(new Terminate());
        }

        if (toStop.Length == 0)
        {
            FinishTerminate();
        }
    }

    private void FinishTerminate()
    {
        ClearReceiveTimeout();

        // Stopped while a restart waited for its children: that instance ran PreRestart (which runs PostStop) already.
        var restarting = _recreateCause is not null;
        _recreateCause = null;
        if (_actor is { } actor && !restarting)
        {
            try
            {
                actor.AroundPostStop();
            }
            catch (Exception exception)
            {
                System.LogHookFailed(exception, Self, "PostStop");
            }
        }

        _state = CellState.Terminated;
        _actor = null;
        _pendingAsync = null;
        _current = default;
        ResetBehavior();
        UpdateSuspension();

        // Before closing: a subscriber to DeadLetter would otherwise receive the dead letters of its own queue, each
        // one a new dead letter.
        System.EventStream.Unsubscribe(Self);
        Mailbox.Close();
        System.EventStream.Unsubscribe(Self); // a subscription made meanwhile: EventStream.Subscribe removes any made later
        TellWatchersAndUnwatchAll();
        if (_parent is not null)
        {
            _parent.SendSystemMessage(new DeathWatchNotification(Self));
        }
        else
        {
            System.OnRootTerminated();
        }
    }

    private void HandleRecreate(Exception cause)
    {
        // A restart ordered while one waits for its children (an AllForOne sibling failing meanwhile) joins it: the
        // failed instance's PreRestart, and the PostStop in it, run once.
        if (_state >= CellState.Restarting)
        {
            return;
        }

        ClearReceiveTimeout();
        // A handler awaiting when the restart comes (a sibling's failure under AllForOne) ends with its instance: the
        // rest of it must not run on an instance whose PostStop has run.
        AbandonPendingAsync();
        if (_actor is { } failed)
        {
            try
            {
                failed.AroundPreRestart(cause, _failedMessage);
            }
            catch (Exception exception)
            {
                System.LogHookFailed(exception, Self, "PreRestart");
            }
        }
        else
        {
            // Nothing ever started: the new instance starts as a first one, with PreStart (Akka.NET turns this
            // Recreate into a Create too).
            StopChildrenOfFailedConstructor();
            BeginRecreate(cause: null);
            return;
        }

        BeginRecreate(cause);
    }

    /// <summary>
    /// A constructor that failed after it made children has no PreRestart to stop them: they would keep their names, and
    /// every new instance making them again would fail, a restart loop. They are stopped, and the instance made once they are gone.
    /// </summary>
    private void StopChildrenOfFailedConstructor()
    {
        foreach (var child in _children?.Snapshot() ?? [])
        {
            Stop(child);
        }
    }

    /// <summary>Makes the next instance once the stopping children are gone: after <paramref name="cause"/> (PostRestart), or as a first start (PreStart) when null.</summary>
    private void BeginRecreate(Exception? cause)
    {
        _recreateCause = cause;
        _state = CellState.Restarting;
        UpdateSuspension();
        if (!HasStoppingChildren())
        {
            FinishRecreate();
        }
    }

    /// <summary>After <c>PreRestart</c> and once the children it stopped are gone: a fresh instance on the same mailbox.</summary>
    private void FinishRecreate()
    {
        var cause = _recreateCause;
        _recreateCause = null;
        _failedMessage = null;
        AbandonPendingAsync();
        ResetBehavior();
        ClearReceiveTimeout(); // also one the failed instance's PreRestart set: the new instance sets its own

        // Children a PreRestart kept are restarted too, after the new instance, as Akka.NET does.
        var survivors = _children?.Snapshot() ?? [];
        CreateActor(cause);
        if (!_failed && cause is not null)
        {
            foreach (var survivor in survivors)
            {
                survivor.SendSystemMessage(new Recreate(cause));
            }
        }
    }
}
