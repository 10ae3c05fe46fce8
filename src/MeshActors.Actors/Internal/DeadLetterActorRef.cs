using MeshActors.Actors.Dispatch;

namespace MeshActors.Actors.Internal;

/// <summary>The system's <c>/deadLetters</c>: what it receives is counted, logged (the first few) and published as <see cref="DeadLetter"/>.</summary>
internal sealed class DeadLetterActorRef(ActorSystem system, ActorPath path) : ActorRefBase
{
    public override ActorPath Path { get; } = path;

    public override ActorSystem System { get; } = system;

    public override bool IsTerminated => true;

    public override void Tell(object message, IActorRef? sender = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message is DeadLetter letter)
        {
            System.DeadLetter(letter.Message, letter.Sender, letter.Recipient);
        }
        else
        {
            System.DeadLetter(message, sender ?? ActorCell.ImplicitSender, this);
        }
    }

    public override void SendSystemMessage(SystemMessage message) => ReplyToWatchAsDead(message);
}
