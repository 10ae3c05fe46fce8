using System.Diagnostics;
using MeshActors.Actors.Dispatch;

namespace MeshActors.Actors.Internal;

// The receive timeout: ReceiveTimeout.Instance after a set time without a message that counts.
internal sealed partial class ActorCell
{
    private TimeSpan? _receiveTimeout;
    private long _lastActivity;
    private Timer? _receiveTimeoutTimer;

    public TimeSpan? ReceiveTimeout => _receiveTimeout;

    public void SetReceiveTimeout(TimeSpan? timeout)
    {
        if (timeout is { } value)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero, nameof(timeout));
        }

        _receiveTimeout = timeout;
        _lastActivity = Stopwatch.GetTimestamp();
        if (timeout is { } due)
        {
            ArmReceiveTimeout(due);
        }
        else
        {
            _receiveTimeoutTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    // When each message is done while a timeout is set, so it costs a timestamp, not a timer call: the timer fires at
    // the first possible deadline and, on the actor's turn, either delivers or re-arms for the time still to go.
    private void NoteActivity(object message)
    {
        if (_receiveTimeout is null || message is ReceiveTimeoutTick)
        {
            return;
        }

        var delivered = message is TimerScheduler.ActiveTimer timer ? timer.Message : message;
        if (delivered is not INotInfluenceReceiveTimeout)
        {
            _lastActivity = Stopwatch.GetTimestamp();
        }
    }

    private void OnReceiveTimeoutTick()
    {
        if (_receiveTimeout is not { } timeout)
        {
            return; // cleared after this tick was queued
        }

        var idle = Stopwatch.GetElapsedTime(_lastActivity);
        if (idle < timeout)
        {
            ArmReceiveTimeout(timeout - idle);
            return;
        }

        _current = new Envelope(Actors.ReceiveTimeout.Instance, ActorRefs.NoSender); // what Stash() keeps
        try
        {
            ReceiveMessage(Actors.ReceiveTimeout.Instance);
        }
        finally
        {
            // Also when the handler threw: a resumed actor keeps its timeout (a restarted one has it cleared).
            if (_receiveTimeout is { } next)
            {
                // Delivering it counts as activity: the next one comes after another full period of silence.
                _lastActivity = Stopwatch.GetTimestamp();
                ArmReceiveTimeout(next);
            }
        }
    }

    private void ArmReceiveTimeout(TimeSpan due)
    {
        _receiveTimeoutTimer ??= new Timer(
            static state => ((ActorCell)state!).Mailbox.PostInternal(new Envelope(ReceiveTimeoutTick.Instance, ActorRefs.NoSender)), this, Timeout.Infinite, Timeout.Infinite);
        _receiveTimeoutTimer.Change(TimerDuration.Clamp(due), Timeout.InfiniteTimeSpan);
    }

    /// <summary>On stop and restart, as timers are: a new instance sets its own.</summary>
    private void ClearReceiveTimeout()
    {
        _receiveTimeout = null;
        _receiveTimeoutTimer?.Dispose();
        _receiveTimeoutTimer = null;
    }

    /// <summary>The timer's message to the cell; the cell decides on its turn whether the actor has been idle long enough.</summary>
    internal sealed class ReceiveTimeoutTick : IAutoReceivedMessage
    {
        public static ReceiveTimeoutTick Instance { get; } = new();
    }
}
