namespace MeshActors.Actors;

/// <summary>An <c>Ask</c> failed at once because the recipient's bounded mailbox was full.</summary>
public sealed class MailboxOverflowException(IActorRef actor, object? undelivered = null)
    : Exception($"The bounded mailbox of {actor.Path} is full; the message went to dead letters.")
{
    /// <summary>The actor whose mailbox was full.</summary>
    public IActorRef Actor { get; } = actor;

    /// <summary>For an <c>Ask</c> failed by a dead letter, the message that was not delivered (see <see cref="ActorTerminatedException.UndeliveredMessage"/>).</summary>
    public object? UndeliveredMessage { get; } = undelivered;
}
