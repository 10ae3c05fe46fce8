namespace MeshActors.Actors;

/// <summary>
/// Published on the <see cref="EventStream"/> for a message that could not be delivered (stopped recipient, full bounded
/// mailbox); never for a <see cref="DeadLetter"/> itself that its subscriber could not take.
/// </summary>
/// <param name="Message">The message.</param>
/// <param name="Sender">Who sent it (the system's dead letters when there was no sender).</param>
/// <param name="Recipient">Whom it was meant for.</param>
public sealed record DeadLetter(object Message, IActorRef Sender, IActorRef Recipient);
