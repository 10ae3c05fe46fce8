using System.Net;
using MeshActors.Protocol;

namespace MeshActors.Peers;

/// <summary>
/// The peer layer's side of one remote node: its identity, its outbound queue and its counters, kept across reconnects
/// so that what is queued while no channel is up goes out on the next one.
/// </summary>
/// <remarks>
/// Any thread may send. The connection state is written by the <see cref="PeerManagerActor"/> only; the members marked
/// "manager only" are its bookkeeping and are touched on its turn alone.
/// </remarks>
internal sealed class PeerLink : IPeer
{
    private readonly PeerOverflowPolicy _overflowPolicy;
    private volatile string _name;
    private volatile bool _connected;
    private volatile bool _speaksMeshProtocol;
    private volatile bool _acceptsAttachments;
    private volatile bool _outbound;
    private volatile EndPoint? _remoteEndPoint;
    private volatile int _maxFrameSize = ProtocolOptions.DefaultMaxFrameSize;
    private long _attachments;

    // Runs of the peer it restarted from: more than a few restarts while a channel of an old run is still on its way are
    // not to be expected.
    private const int MaxEndedRuns = 8;
    private readonly List<string> _endedRuns = [];

    /// <summary>The link of node <paramref name="nodeId"/>; <paramref name="handler"/>, when given, is asked whether a queued request is still awaited (<see cref="IPeerEnvelopeHandler.IsAwaited"/>).</summary>
    public PeerLink(string nodeId, string name, PeerOptions options, PeerStats totals, IPeerEnvelopeHandler? handler = null)
    {
        NodeId = nodeId;
        _name = name;
        _overflowPolicy = options.OverflowPolicy;
        Stats = new PeerStats(totals);
        Queue = new OutboundQueue(
            options.OutboundQueueCapBytes, options.BackpressureEnvelopes, options.BackpressureBytes, Stats,
            handler is null ? null : envelope => envelope is not Envelope.Req req || handler.IsAwaited(nodeId, req));
    }

    /// <inheritdoc />
    public string NodeId { get; }

    /// <inheritdoc />
    public string Name => _name;

    /// <inheritdoc />
    public bool IsConnected => _connected;

    /// <inheritdoc />
    public bool SpeaksMeshProtocol => _speaksMeshProtocol;

    /// <inheritdoc />
    public bool AcceptsAttachments => _acceptsAttachments;

    /// <inheritdoc />
    public int MaxFrameSize => _maxFrameSize;

    /// <inheritdoc />
    public long QueuedBytes => Queue.QueuedBytes;

    /// <summary>The counters of this peer (they add up into the node's totals).</summary>
    public PeerStats Stats { get; }

    /// <summary>The envelopes waiting for the channel.</summary>
    public OutboundQueue Queue { get; }

    /// <summary>Manager only: the channel whose writer drains the queue, null while disconnected.</summary>
    public ConnectionEntry? Attached { get; set; }

    /// <summary>Manager only: every handshaken channel to this node that has not ended yet.</summary>
    public List<ConnectionEntry> Channels { get; } = [];

    /// <summary>Manager only: the run of the peer (hello <c>incarnation</c>) that the last attached channel came from.</summary>
    public string? Incarnation { get; set; }

    /// <summary>Manager only: whether the peer restarted from <paramref name="run"/>, whose late channels are turned away.</summary>
    public bool HasEnded(string run) => _endedRuns.Contains(run);

    /// <summary>Manager only: <paramref name="run"/> is live after all (runs have no order, so a late hello from a dead run can end the live one).</summary>
    public void OnRunLive(string run) => _endedRuns.Remove(run);

    /// <summary>Manager only: the peer restarted from <paramref name="run"/>; the last few such runs are remembered.</summary>
    public void OnRunEnded(string run)
    {
        if (_endedRuns.Count == MaxEndedRuns)
        {
            _endedRuns.RemoveAt(0);
        }

        _endedRuns.Add(run);
    }

    /// <summary>Manager only: whether the link was ever connected (a later connection is a reconnect).</summary>
    public bool WasConnected { get; set; }

    /// <summary>Manager only: the number of the next channel attachment to the queue (<see cref="OutboundQueue.Attach"/>).</summary>
    public long NextAttachment() => ++_attachments;

    /// <inheritdoc />
    public bool TrySend(Envelope envelope) => Queue.TryEnqueue(envelope);

    /// <inheritdoc />
    public bool TrySendOwed(Envelope envelope) => Queue.EnqueueOwed(envelope);

    /// <inheritdoc />
    public ValueTask SendAsync(Envelope envelope, CancellationToken cancellationToken = default) =>
        Queue.EnqueueAsync(envelope, _overflowPolicy == PeerOverflowPolicy.Wait, NodeId, cancellationToken);

    /// <inheritdoc />
    public ValueTask SendWaitingAsync(Envelope envelope, CancellationToken cancellationToken = default) =>
        Queue.EnqueueAsync(envelope, wait: true, NodeId, cancellationToken);

    /// <summary>A snapshot for diagnostics.</summary>
    public PeerInfo Describe() => new(NodeId, Name, IsConnected, SpeaksMeshProtocol, _outbound, _remoteEndPoint, Queue.QueuedBytes, Stats, Queue.WaitingSenders);

    /// <summary>Manager only: the channel <paramref name="identity"/> describes now carries the link.</summary>
    public void OnAttached(PeerIdentity identity)
    {
        if (identity.Name is { Length: > 0 } name)
        {
            _name = name;
        }

        _speaksMeshProtocol = identity.SpeaksMeshProtocol;
        _acceptsAttachments = identity.AcceptsAttachments;
        _outbound = identity.Outbound;
        _remoteEndPoint = identity.RemoteEndPoint;
        _maxFrameSize = identity.MaxFrameSize;
        _connected = true;
    }

    /// <summary>Manager only: no channel carries the link any more (then wake the queue's waiters, once the handler has heard).</summary>
    public void OnDetached() => _connected = false;

    /// <inheritdoc />
    public override string ToString() => $"'{Name}' ({NodeId})";
}
