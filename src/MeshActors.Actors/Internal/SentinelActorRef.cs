using MeshActors.Actors.Dispatch;

namespace MeshActors.Actors.Internal;

/// <summary><see cref="ActorRefs.Nobody"/> and <see cref="ActorRefs.NoSender"/>: references to no actor in no system.</summary>
internal sealed class SentinelActorRef(string name) : ActorRefBase
{
    public override ActorPath Path { get; } = new ActorPath("all-systems").Child(name);

    public override bool IsTerminated => true;

    public override void Tell(object message, IActorRef? sender = null)
    {
        // There is no system to publish a dead letter in; Akka.NET's Nobody drops silently too.
    }

    public override void SendSystemMessage(SystemMessage message) => ReplyToWatchAsDead(message);
}
