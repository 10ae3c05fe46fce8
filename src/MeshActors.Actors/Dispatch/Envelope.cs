namespace MeshActors.Actors.Dispatch;

/// <summary>A user message with its sender, stored by value in the mailbox so that a Tell allocates nothing.</summary>
internal readonly struct Envelope(object message, IActorRef? sender)
{
    public readonly object Message = message;

    /// <summary>The sender as given to Tell: null or <see cref="ActorRefs.NoSender"/> when there is none.</summary>
    public readonly IActorRef? Sender = sender;
}
