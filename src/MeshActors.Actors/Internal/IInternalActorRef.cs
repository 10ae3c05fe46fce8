using MeshActors.Actors.Dispatch;

namespace MeshActors.Actors.Internal;

/// <summary>What the kernel needs from every reference it creates: system messages and liveness.</summary>
internal interface IInternalActorRef : IActorRef
{
    /// <summary>The system the reference belongs to, or null for the sentinels.</summary>
    ActorSystem? System { get; }

    /// <summary>Whether the actor is known to have stopped (messages go to dead letters).</summary>
    bool IsTerminated { get; }

    void SendSystemMessage(SystemMessage message);
}
