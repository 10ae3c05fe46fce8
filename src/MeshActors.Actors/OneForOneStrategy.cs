using MeshActors.Actors.Internal;

namespace MeshActors.Actors;

/// <summary>Applies the directive to the failing child only.</summary>
public sealed class OneForOneStrategy : SupervisorStrategy
{
    /// <summary>At most <paramref name="maxNrOfRetries"/> restarts (-1: no limit) within <paramref name="withinTimeRange"/> (infinite: ever) per child, then stop it.</summary>
    public OneForOneStrategy(int maxNrOfRetries, TimeSpan withinTimeRange, Func<Exception, Directive> decider)
        : base(maxNrOfRetries, withinTimeRange, decider)
    {
    }

    /// <summary>No restart limit.</summary>
    public OneForOneStrategy(Func<Exception, Directive> decider)
        : this(-1, Timeout.InfiniteTimeSpan, decider)
    {
    }

    private protected override void Restart(ActorCell supervisor, LocalActorRef child, Exception cause)
    {
        if (MayRestart(child))
        {
            child.SendSystemMessage(new Dispatch.Recreate(cause));
        }
        else
        {
            supervisor.Stop(child);
        }
    }

    private protected override void Stop(ActorCell supervisor, LocalActorRef child) => supervisor.Stop(child);
}
