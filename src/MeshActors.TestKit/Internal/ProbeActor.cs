using System.Threading.Channels;
using MeshActors.Actors;

namespace MeshActors.TestKit.Internal;

/// <summary>The actor behind a <see cref="TestProbe"/>: queues everything it receives, with its sender, for the test to inspect.</summary>
internal sealed class ProbeActor(ChannelWriter<ProbeActor.Received> queue) : ActorBase
{
    private Func<object, bool>? _ignore;

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
            case IgnoreCommand ignore:
                _ignore = ignore.ShouldIgnore;
                break;
            case var _ when _ignore?.Invoke(message) == true:
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

    internal sealed record IgnoreCommand(Func<object, bool>? ShouldIgnore);
}
