namespace MeshActors.Actors;

/// <summary>An <c>Ask</c> failed at once because the recipient's bounded mailbox was full.</summary>
public sealed class MailboxOverflowException(IActorRef actor)
    : Exception($"The bounded mailbox of {actor.Path} is full; the message went to dead letters.")
{
    /// <summary>The actor whose mailbox was full.</summary>
    public IActorRef Actor { get; } = actor;
}
