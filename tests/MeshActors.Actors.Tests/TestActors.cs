namespace MeshActors.Actors.Tests;

/// <summary>Small actors the specifications share.</summary>
internal static class TestActors
{
    /// <summary>Replies to every message with the message itself.</summary>
    public sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(message => Sender.Tell(message));
    }

    /// <summary>Forwards every message to a probe, keeping the sender.</summary>
    public sealed class Relay : ReceiveActor
    {
        public Relay(IActorRef target) => ReceiveAny(message => target.Forward(message));
    }

    /// <summary>Reports its lifecycle hooks to a probe as strings ("prestart", "poststop", ...).</summary>
    public class LifecycleReporter(IActorRef probe, string name = "") : ReceiveActor
    {
        protected IActorRef Probe { get; } = probe;

        protected string Name { get; } = name;

        protected override void PreStart() => Probe.Tell($"{Name}prestart");

        protected override void PostStop() => Probe.Tell($"{Name}poststop");

        protected override void PreRestart(Exception reason, object? message)
        {
            Probe.Tell($"{Name}prerestart:{message}");
            base.PreRestart(reason, message);
        }

        protected override void PostRestart(Exception reason)
        {
            Probe.Tell($"{Name}postrestart:{reason.Message}");
            base.PostRestart(reason);
        }
    }

    /// <summary>Counts messages; "throw" throws, "get" replies with the count; otherwise the message is echoed.</summary>
    public sealed class Counter : ReceiveActor
    {
        private int _count;

        public Counter()
        {
            Receive<string>(s => s == "throw", _ => throw new InvalidOperationException("boom"));
            Receive<string>(s => s == "kill-init", _ => throw new ActorInitializationException(Self, "init"));
            Receive<string>(s => s == "get", _ => Sender.Tell(_count));
            ReceiveAny(message =>
            {
                _count++;
                Sender.Tell(message);
            });
        }
    }
}
