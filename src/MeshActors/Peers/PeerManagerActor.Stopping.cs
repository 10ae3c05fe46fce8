using MeshActors.Actors;
using MeshActors.Protocol;

namespace MeshActors.Peers;

/// <summary>The orderly stop: goodbye on every channel, then the listener and the dialer.</summary>
internal sealed partial class PeerManagerActor
{
    private const string StopDeadlineTimer = "stop-deadline";

    private readonly List<IActorRef> _stopRequesters = [];
    private Task? _transportStopped;
    private bool _stopping;

    private void OnStopPeers()
    {
        _stopRequesters.Add(Sender);
        if (_stopping)
        {
            TryFinishStop();
            return;
        }

        _stopping = true;
        Timers.CancelAll();
        PeerLog.Stopping(_logger, _connections.Count);
        foreach (var entry in _connections.Values)
        {
            if (entry.Link is not null && !entry.Retired)
            {
                entry.Retired = true;
                entry.Actor.Tell(new PeerConnectionActor.Retire(Envelope.Bye.Shutdown));
            }
        }

        // Each channel resets itself after the goodbye grace; this bounds what is left.
        Timers.StartSingleTimer(StopDeadlineTimer, StopDeadline.Instance, _options.GoodbyeGrace + TimeSpan.FromSeconds(1));

        // A dial or a handshake in flight carries nothing to drain: waiting for it would hold the stop for a connect or
        // handshake timeout, for any client that reached the port and said nothing.
        foreach (var entry in _connections.Values.Where(entry => entry.Link is null).ToList())
            OnConnectionEnded(entry.Actor, new ChannelEnd("the node stopped before the channel's handshake ended"));
        TryFinishStop();
    }

    private void OnStopDeadline()
    {
        foreach (var actor in _connections.Keys.ToList())
        {
            OnConnectionEnded(actor, new ChannelEnd("the node stopped before the channel ended"));
        }

        TryFinishStop();
    }

    private void TryFinishStop()
    {
        if (_connections.Count != 0 || _stopRequesters.Count == 0)
        {
            return;
        }

        Timers.Cancel(StopDeadlineTimer);
        CloseAllLinks("the node is stopping");
        var stopped = StopTransport();
        foreach (var requester in _stopRequesters)
        {
            _ = stopped.PipeTo(requester, success: () => PeersStopped.Instance);
        }

        _stopRequesters.Clear();
    }

    private Task StopTransport() => _transportStopped ??= StopTransportAsync();

    /// <summary>
    /// Asks the manager to stop in order: <c>bye</c> on every channel, each read to its end (at most
    /// <see cref="PeerOptions.GoodbyeGrace"/>), then the listener stops and frees its port; the reply is <see cref="PeersStopped"/>.
    /// </summary>
    public sealed class StopPeers
    {
        private StopPeers()
        {
        }

        /// <summary>The only instance.</summary>
        public static StopPeers Instance { get; } = new();
    }

    /// <summary>The reply to <see cref="StopPeers"/>: every channel is closed and the listener's port is free.</summary>
    public sealed class PeersStopped
    {
        private PeersStopped()
        {
        }

        /// <summary>The only instance.</summary>
        public static PeersStopped Instance { get; } = new();
    }

    private sealed class StopDeadline
    {
        public static StopDeadline Instance { get; } = new();
    }
}
