using MeshActors.Actors.Dispatch;

namespace MeshActors.Actors.Internal;

/// <summary>The reference to an actor of this process: a Tell is one enqueue into its mailbox.</summary>
internal sealed class LocalActorRef(ActorCell cell, ActorPath path) : ActorRefBase
{
    private readonly Mailbox _mailbox = cell.Mailbox;

    public ActorCell Cell { get; } = cell;

    public override ActorPath Path { get; } = path;

    public override ActorSystem System => Cell.System;

    public override bool IsTerminated => _mailbox.IsClosed;

    public override void Tell(object message, IActorRef? sender = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        _mailbox.Post(new Envelope(message, sender ?? ActorCell.ImplicitSender));
    }

    public override void SendSystemMessage(SystemMessage message) => _mailbox.PostSystem(message);
}
