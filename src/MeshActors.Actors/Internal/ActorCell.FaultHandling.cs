using System.Diagnostics;
using MeshActors.Actors.Dispatch;

namespace MeshActors.Actors.Internal;

// Supervision: a failing actor suspends itself and asks its parent, which applies its strategy.
internal sealed partial class ActorCell
{
    private bool _failed;
    private object? _failedMessage;
    private List<LocalActorRef>? _escalatingChildren; // children whose failures wait for this actor's own directive
    private Exception? _recreateCause;

    // The restart budget of this actor, kept here but touched only by the parent's strategy on the parent's turn.
    private int _restartCount;
    private long _restartWindowStart;

    /// <summary>The actor failed (or escalates a child's failure): suspend and let the parent decide.</summary>
    public void HandleInvokeFailure(Exception cause, LocalActorRef? perpetrator = null)
    {
        if (_failed && perpetrator is not null && _state < CellState.Terminating)
        {
            // Another child escalates while this actor waits for its supervisor: it waits for the same directive.
            // Children keep running while their parent is failed here (unlike Akka.NET, which suspends them), so this
            // happens whenever the supervisor takes its time.
            _escalatingChildren!.Add(perpetrator);
            return;
        }

        if (_failed || _state >= CellState.Terminating)
        {
            System.LogIgnoredFailure(cause, Self);
            return;
        }

        _failed = true;
        _failedMessage = perpetrator is null ? _current.Message : null;
        _escalatingChildren = perpetrator is null ? [] : [perpetrator];
        AbandonPendingAsync();
        UpdateSuspension();

        if (_parent is null)
        {
            System.LogGuardianFailed(cause, Self);
            HandleTerminate();
        }
        else
        {
            _parent.SendSystemMessage(new Failed(Self, cause));
        }
    }

    private void HandleFailed(Failed failed)
    {
        if (_state >= CellState.Terminating || _children is not { } children || children.Get(failed.Child.Path.Name) != failed.Child)
        {
            return; // a late report from a child that is already gone or being stopped
        }

        var strategy = _props.SupervisorStrategy ?? _actor?.SupervisorStrategyInternal ?? SupervisorStrategy.DefaultStrategy;
        strategy.HandleFailure(this, failed.Child, failed.Cause);
    }

    private void HandleResume()
    {
        if (!_failed)
        {
            return;
        }

        if (_actor is null)
        {
            // Failed in its constructor: there is nothing to resume, so a first instance is made, once the children
            // the constructor made are gone.
            StopChildrenOfFailedConstructor();
            BeginRecreate(cause: null);
            return;
        }

        _failed = false;
        _failedMessage = null;
        UpdateSuspension();
        foreach (var child in _escalatingChildren ?? [])
        {
            child.SendSystemMessage(new Resume());
        }

        _escalatingChildren = null;
    }

    /// <summary>Akka.NET's restart budget: at most <paramref name="maxNrOfRetries"/> restarts within <paramref name="window"/> (-1 and infinite mean no limit).</summary>
    public bool RequestRestartPermission(int maxNrOfRetries, TimeSpan window)
    {
        if (maxNrOfRetries == 0)
        {
            return false;
        }

        var unlimitedWindow = window <= TimeSpan.Zero || window == Timeout.InfiniteTimeSpan;
        if (maxNrOfRetries < 0)
        {
            return true;
        }

        if (unlimitedWindow)
        {
            return ++_restartCount <= maxNrOfRetries;
        }

        var now = Stopwatch.GetTimestamp();
        if (_restartWindowStart == 0 || Stopwatch.GetElapsedTime(_restartWindowStart, now) > window)
        {
            _restartWindowStart = now;
            _restartCount = 1;
            return true;
        }

        return ++_restartCount <= maxNrOfRetries;
    }
}
