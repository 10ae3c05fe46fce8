using MeshActors.Actors.Internal;

namespace MeshActors.Actors;

/// <summary>Well-known references that belong to no actor.</summary>
public static class ActorRefs
{
    /// <summary>A reference to no actor: messages to it are dropped, asks to it fail at once.</summary>
    public static readonly IActorRef Nobody = new SentinelActorRef("Nobody");

    /// <summary>
    /// Pass as the sender to say "there is no sender", even from inside an actor (where omitting the sender means
    /// <c>Self</c>). The recipient then sees its system's dead letters as <c>Sender</c>.
    /// </summary>
    public static readonly IActorRef NoSender = new SentinelActorRef("NoSender");
}
