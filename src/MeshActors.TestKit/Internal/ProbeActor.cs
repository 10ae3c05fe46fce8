using System.Threading.Channels;
using MeshActors.Actors;

namespace MeshActors.TestKit.Internal;

/// <summary>The actor behind a <see cref="TestProbe"/>: queues everything it receives, with its sender, for the test to inspect.</summary>
internal sealed class ProbeActor(ChannelWriter<ProbeActor.Received> queue) : ActorBase
{
    protected internal override bool Receive(object message)
    {
        switch (message)
        {
            case WatchCommand watch:
                Context.Watch(watch.Target);
                break;
            case UnwatchCommand unwatch:
                Context.Unwatch(unwatch.Target);
                break;
            default:
                queue.TryWrite(new Received(message, Sender));
                break;
        }

        return true;
    }

    /// <summary>A message as the probe received it.</summary>
    internal readonly record struct Received(object Message, IActorRef Sender);

    internal sealed record WatchCommand(IActorRef Target);

    internal sealed record UnwatchCommand(IActorRef Target);
}
