namespace MeshActors.Actors;

/// <summary>Published on the <see cref="EventStream"/> for a message that the recipient's current behavior did not handle.</summary>
/// <param name="Message">The message.</param>
/// <param name="Sender">Who sent it (the system's dead letters when there was no sender).</param>
/// <param name="Recipient">The actor that did not handle it.</param>
public sealed record UnhandledMessage(object Message, IActorRef Sender, IActorRef Recipient);
