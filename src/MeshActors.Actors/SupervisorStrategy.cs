using MeshActors.Actors.Internal;

namespace MeshActors.Actors;

/// <summary>How a parent handles a failing child: a decider maps the exception to a <see cref="Directive"/>, within a restart budget.</summary>
public abstract class SupervisorStrategy
{
    /// <summary>Creates a strategy; see <see cref="OneForOneStrategy"/> and <see cref="AllForOneStrategy"/>.</summary>
    private protected SupervisorStrategy(int maxNrOfRetries, TimeSpan withinTimeRange, Func<Exception, Directive> decider)
    {
        ArgumentNullException.ThrowIfNull(decider);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNrOfRetries, -1);
        MaxNumberOfRetries = maxNrOfRetries;
        WithinTimeRange = withinTimeRange;
        Decider = decider;
    }

    /// <summary>
    /// Akka.NET's default decider: <see cref="ActorInitializationException"/>, <see cref="ActorKilledException"/> and
    /// <see cref="DeathPactException"/> stop the child; any other exception restarts it.
    /// </summary>
    public static Func<Exception, Directive> DefaultDecider { get; } = static exception => exception switch
    {
        ActorInitializationException or ActorKilledException or DeathPactException => Directive.Stop,
        _ => Directive.Restart,
    };

    /// <summary>One-for-one with <see cref="DefaultDecider"/> and no restart limit: what an actor uses unless it says otherwise.</summary>
    public static SupervisorStrategy DefaultStrategy { get; } = new OneForOneStrategy(DefaultDecider);

    /// <summary>One-for-one that stops a child on any failure.</summary>
    public static SupervisorStrategy StoppingStrategy { get; } = new OneForOneStrategy(static _ => Directive.Stop);

    /// <summary>Maps a child's exception to a directive.</summary>
    public Func<Exception, Directive> Decider { get; }

    /// <summary>How many restarts are allowed within <see cref="WithinTimeRange"/> before the child is stopped (-1: no limit).</summary>
    public int MaxNumberOfRetries { get; }

    /// <summary>The window of <see cref="MaxNumberOfRetries"/> (infinite or zero: the whole life of the child).</summary>
    public TimeSpan WithinTimeRange { get; }

    /// <summary>Whether failures are logged (at Error, Resume at Warning). Default: true.</summary>
    public bool LoggingEnabled { get; init; } = true;

    internal void HandleFailure(ActorCell supervisor, LocalActorRef child, Exception cause)
    {
        Directive directive;
        try
        {
            directive = Decider(cause);
        }
        catch (Exception deciderFailure)
        {
            supervisor.System.LogHookFailed(deciderFailure, supervisor.Self, "supervisor decider");
            directive = Directive.Escalate;
        }

        if (LoggingEnabled && directive != Directive.Escalate)
        {
            supervisor.System.LogChildFailure(cause, child, directive);
        }

        switch (directive)
        {
            case Directive.Resume:
                child.SendSystemMessage(new Dispatch.Resume());
                break;
            case Directive.Restart:
                Restart(supervisor, child, cause);
                break;
            case Directive.Stop:
                Stop(supervisor, child);
                break;
            default:
                supervisor.HandleInvokeFailure(cause, child);
                break;
        }
    }

    private protected abstract void Restart(ActorCell supervisor, LocalActorRef child, Exception cause);

    private protected abstract void Stop(ActorCell supervisor, LocalActorRef child);

    private protected bool MayRestart(LocalActorRef child) =>
        child.Cell.RequestRestartPermission(MaxNumberOfRetries, WithinTimeRange);
}
