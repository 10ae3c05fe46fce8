using MeshActors.Actors.Dispatch;

namespace MeshActors.Actors.Internal;

/// <summary>
/// The keyed timers of one actor instance (<see cref="IWithTimers"/>). A timer tells its own <see cref="ActiveTimer"/>
/// to the actor, so a tick allocates nothing; the cell delivers the wrapped message only while that very timer is
/// still the one registered under its key, which makes cancel and replace exact even for ticks already queued.
/// </summary>
internal sealed class TimerScheduler(ActorCell cell) : ITimerScheduler
{
    private Dictionary<object, ActiveTimer>? _timers;

    public void StartSingleTimer(object key, object message, TimeSpan delay) =>
        Start(key, message, delay, Timeout.InfiniteTimeSpan);

    public void StartPeriodicTimer(object key, object message, TimeSpan interval) =>
        StartPeriodicTimer(key, message, interval, interval);

    public void StartPeriodicTimer(object key, object message, TimeSpan initialDelay, TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        Start(key, message, initialDelay, interval);
    }

    public bool IsTimerActive(object key) => _timers?.ContainsKey(key) == true;

    public void Cancel(object key)
    {
        if (_timers is not null && _timers.Remove(key, out var timer))
        {
            timer.Dispose();
        }
    }

    public void CancelAll()
    {
        if (_timers is null)
        {
            return;
        }

        foreach (var timer in _timers.Values)
        {
            timer.Dispose();
        }

        _timers.Clear();
    }

    /// <summary>On the actor's turn: whether this tick is still current (and forget a single timer that fired).</summary>
    public bool Accept(ActiveTimer timer)
    {
        if (_timers is null || !_timers.TryGetValue(timer.Key, out var current) || !ReferenceEquals(current, timer))
        {
            return false;
        }

        if (!timer.IsPeriodic)
        {
            _timers.Remove(timer.Key);
            timer.Dispose();
        }

        return true;
    }

    private void Start(object key, object message, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentOutOfRangeException.ThrowIfLessThan(dueTime, TimeSpan.Zero);
        Cancel(key);
        var timer = new ActiveTimer(this, key, message, period != Timeout.InfiniteTimeSpan);
        (_timers ??= []).Add(key, timer);
        timer.Arm(dueTime, period);
    }

    /// <summary>One running timer; also the message its ticks send.</summary>
    internal sealed class ActiveTimer(TimerScheduler owner, object key, object message, bool isPeriodic) : IAutoReceivedMessage, IDisposable
    {
        private Timer? _timer;

        public TimerScheduler Owner { get; } = owner;

        public object Key { get; } = key;

        public object Message { get; } = message;

        public bool IsPeriodic { get; } = isPeriodic;

        public void Arm(TimeSpan dueTime, TimeSpan period) =>
            _timer = new Timer(static state => ((ActiveTimer)state!).Tick(), this, TimerDuration.Clamp(dueTime), TimerDuration.Clamp(period));

        public void Dispose() => _timer?.Dispose();

        private void Tick() => Owner.Tick(this);

        public override string ToString() => $"Timer {Key}: {Message}";
    }

    private void Tick(ActiveTimer timer) => cell.Mailbox.PostInternal(new Envelope(timer, ActorRefs.NoSender));
}
