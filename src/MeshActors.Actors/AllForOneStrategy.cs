using MeshActors.Actors.Internal;

namespace MeshActors.Actors;

/// <summary>Applies a restart or stop to every child of the supervisor (for siblings that only work together); resume applies to the failing child.</summary>
public sealed class AllForOneStrategy : SupervisorStrategy
{
    /// <summary>At most <paramref name="maxNrOfRetries"/> restarts (-1: no limit) within <paramref name="withinTimeRange"/> (infinite: ever) per child, then stop them all.</summary>
    public AllForOneStrategy(int maxNrOfRetries, TimeSpan withinTimeRange, Func<Exception, Directive> decider)
        : base(maxNrOfRetries, withinTimeRange, decider)
    {
    }

    /// <summary>No restart limit.</summary>
    public AllForOneStrategy(Func<Exception, Directive> decider)
        : this(-1, Timeout.InfiniteTimeSpan, decider)
    {
    }

    private protected override void Restart(ActorCell supervisor, LocalActorRef child, Exception cause)
    {
        var children = supervisor.Children.Cast<LocalActorRef>().ToArray();
        var allowed = true;
        foreach (var sibling in children)
        {
            allowed &= MayRestart(sibling);
        }

        foreach (var sibling in children)
        {
            if (allowed)
            {
                sibling.SendSystemMessage(new Dispatch.Recreate(cause));
            }
            else
            {
                supervisor.Stop(sibling);
            }
        }
    }

    private protected override void Stop(ActorCell supervisor, LocalActorRef child)
    {
        foreach (var sibling in supervisor.Children)
        {
            supervisor.Stop(sibling);
        }
    }
}
