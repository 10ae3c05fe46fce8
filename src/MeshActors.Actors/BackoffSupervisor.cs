using MeshActors.Actors.Internal;
using Microsoft.Extensions.Logging;

namespace MeshActors.Actors;

/// <summary>
/// Supervises one child and restarts it after exponentially growing, jittered delays (see <see cref="BackoffOptions"/>),
/// for actors whose failures come from outside (a peer that is down, a broken connection). Messages to the
/// supervisor are forwarded to the child, keeping their sender; while the child is down they go to dead letters.
/// </summary>
public sealed class BackoffSupervisor : ActorBase, IWithTimers
{
    private const string StartChildTimer = "start-child";
    private const string ResetTimer = "reset-backoff";

    private readonly BackoffOptions _options;
    private IActorRef? _child;
    private int _restartCount;
    private Exception? _childFailure;
    private bool _deciderStopped; // the decider said Stop: the supervisor stops with its child, whatever RestartOnStop says

    private BackoffSupervisor(BackoffOptions options) => _options = options;

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The props of a backoff supervisor for <paramref name="options"/>.</summary>
    public static Props Props(BackoffOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return global::MeshActors.Actors.Props.Create(() => new BackoffSupervisor(options));
    }

    /// <summary>
    /// The delay before restart number <paramref name="restartCount"/> + 1: min(max, min * 2^count), times a random
    /// factor in [1, 1 + <paramref name="randomFactor"/>] (Akka.NET's formula).
    /// </summary>
    public static TimeSpan CalculateDelay(int restartCount, TimeSpan minBackoff, TimeSpan maxBackoff, double randomFactor)
    {
        var jitter = 1.0 + (Random.Shared.NextDouble() * randomFactor);

        // In doubles: min * 2^count overflows a long of ticks long before count reaches 30 for a minBackoff of minutes.
        var doubled = Math.Min(maxBackoff.Ticks, minBackoff.Ticks * Math.Pow(2, Math.Min(restartCount, 62)));
        var delay = doubled * jitter;
        return delay >= TimeSpan.MaxValue.Ticks ? TimeSpan.MaxValue : TimeSpan.FromTicks((long)delay);
    }

    /// <inheritdoc />
    protected override void PreStart() => StartChild();

    /// <inheritdoc />
    /// <remarks>The supervisor logs one line when the child goes down after running well, not one per retry.</remarks>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(exception =>
    {
        var directive = _options.Decider(exception);
        if (directive == Directive.Restart)
        {
            _childFailure = exception;
            return Directive.Stop; // stopped now, started again after the delay
        }

        _deciderStopped = directive == Directive.Stop;
        return directive;
    })
    {
        LoggingEnabled = false,
    };

    /// <inheritdoc />
    protected internal override bool Receive(object message)
    {
        switch (message)
        {
            case Terminated terminated when terminated.ActorRef.Equals(_child):
                OnChildTerminated();
                break;
            case StartChildTick:
                StartChild();
                break;
            case ResetTick reset:
                if (reset.Child.Equals(_child))
                {
                    _restartCount = 0;
                }

                break;
            case GetCurrentChild:
                Sender.Tell(new CurrentChild(_child));
                break;
            case GetRestartCount:
                Sender.Tell(new RestartCount(_restartCount));
                break;
            case Reset:
                _restartCount = 0;
                break;
            default:
                if (_child is { } child)
                {
                    child.Forward(message);
                }
                else
                {
                    Context.System.DeadLetters.Tell(new DeadLetter(message, Sender, Self));
                }

                break;
        }

        return true;
    }

    private void StartChild()
    {
        _child = Context.Watch(Context.ActorOf(_options.ChildProps, _options.ChildName));
        if (_restartCount > 0)
        {
            Timers.StartSingleTimer(ResetTimer, new ResetTick(_child), _options.ResetBackoffAfter);
        }
    }

    private void OnChildTerminated()
    {
        _child = null;
        Timers.Cancel(ResetTimer);
        var failure = _childFailure;
        _childFailure = null;
        if (_deciderStopped || (failure is null && !_options.RestartOnStop))
        {
            Context.Stop(Self);
            return;
        }

        var childPath = Self.Path.Child(_options.ChildName).ToString();
        if (_options.MaxNrOfRetries >= 0 && _restartCount >= _options.MaxNrOfRetries)
        {
            KernelLog.BackoffGaveUp(Context.Log, childPath, _restartCount);
            Context.Stop(Self);
            return;
        }

        var delay = CalculateDelay(_restartCount, _options.MinBackoff, _options.MaxBackoff, _options.RandomFactor);
        _restartCount++;
        KernelLog.BackoffRestart(Context.Log, _restartCount == 1 ? LogLevel.Warning : LogLevel.Debug, childPath,
            failure is null ? "it stopped" : $"{failure.GetType().Name}: {failure.Message}", _restartCount, delay.TotalMilliseconds);
        Timers.StartSingleTimer(StartChildTimer, StartChildTick.Instance, delay);
    }

    /// <summary>Asks for the current child; the reply is <see cref="CurrentChild"/>.</summary>
    public sealed class GetCurrentChild
    {
        private GetCurrentChild()
        {
        }

        /// <summary>The only instance.</summary>
        public static GetCurrentChild Instance { get; } = new();
    }

    /// <summary>The reply to <see cref="GetCurrentChild"/>: the child, or null while it is down.</summary>
    public sealed record CurrentChild(IActorRef? Ref);

    /// <summary>Asks how many restarts happened since the last reset; the reply is <see cref="RestartCount"/>.</summary>
    public sealed class GetRestartCount
    {
        private GetRestartCount()
        {
        }

        /// <summary>The only instance.</summary>
        public static GetRestartCount Instance { get; } = new();
    }

    /// <summary>The reply to <see cref="GetRestartCount"/>.</summary>
    public sealed record RestartCount(int Count);

    /// <summary>Makes the next restart wait <see cref="BackoffOptions.MinBackoff"/> again.</summary>
    public sealed class Reset
    {
        private Reset()
        {
        }

        /// <summary>The only instance.</summary>
        public static Reset Instance { get; } = new();
    }

    private sealed class StartChildTick
    {
        public static StartChildTick Instance { get; } = new();
    }

    private sealed record ResetTick(IActorRef Child);
}
