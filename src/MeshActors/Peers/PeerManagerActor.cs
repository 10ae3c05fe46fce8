using System.Net;
using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Protocol;
using MeshActors.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MeshActors.Peers;

/// <summary>
/// The peer layer of one node: owns the HTTP/2 listener and dialer, keeps one <see cref="PeerLink"/> per remote node
/// (its queue survives reconnects), and supervises one <see cref="PeerConnectionActor"/> per channel. It dials the
/// members discovery announces (and any <see cref="ConnectPeer"/>), redials with jittered exponential backoff, keeps
/// one channel per peer when both nodes dialed, and publishes <see cref="PeerConnected"/> and
/// <see cref="PeerDisconnected"/> on the EventStream. Its listener also serves unary calls
/// (<see cref="PeerChannel.ServeUnaryAsync"/>), whose callers are no links of its.
/// </summary>
/// <remarks>
/// The manager decides which channel carries a peer; the channels' loops move the frames without it. Readers that
/// must not ask use the <see cref="PeerDirectory"/> given at creation.
/// </remarks>
internal sealed partial class PeerManagerActor : ReceiveActor, IWithTimers
{
    private readonly string _nodeId;
    private readonly PeerOptions _options;
    private readonly TimeSpan _keptChannelWait; // a dial and a handshake: how long the channel a peer kept may take to come
    private readonly IPeerEnvelopeHandler _handler;
    private readonly PeerDirectory _directory;
    private readonly ILogger _logger;
    private readonly MeshListener _listener;
    private readonly MeshDialer _dialer;
    private readonly PeerChannelSettings _settings;
    private readonly Dictionary<IActorRef, ConnectionEntry> _connections = [];
    private Task _listenerStarted = Task.CompletedTask;
    private int _childNames;

    private PeerManagerActor(
        string nodeId, string nodeName, PeerOptions peerOptions, ProtocolOptions protocolOptions, TransportOptions transportOptions,
        IPeerEnvelopeHandler handler, PeerDirectory directory, ILoggerFactory loggerFactory)
    {
        _nodeId = nodeId;
        _options = peerOptions;
        _keptChannelWait = transportOptions.ConnectTimeout + peerOptions.HandshakeTimeout;
        _handler = handler;
        _directory = directory;
        _logger = loggerFactory.CreateLogger<PeerManagerActor>();
        _dialer = new MeshDialer(nodeName, transportOptions, loggerFactory);
        // A new incarnation for each start: this run's channels tell the peers that a node of this id restarted.
        var hello = new Envelope.Hello(nodeId, nodeName, WireProtocol.Capabilities, protocolOptions.MaxFrameSize) { Incarnation = Guid.NewGuid().ToString("N") };
        var settings = _settings = new PeerChannelSettings(hello, peerOptions, protocolOptions, handler, _dialer, directory.Totals, loggerFactory.CreateLogger<PeerConnectionActor>());
        var self = Self;
        // Unary calls are served beside the actors, on the listener's thread: a call is short and has no link to manage.
        _listener = new MeshListener(
            nodeName, transportOptions, channel => OnInboundChannel(self, channel), channel => PeerChannel.ServeUnaryAsync(channel, settings), loggerFactory);

        Receive<MemberUp>(up => OnMember(up.Member));
        Receive<MemberUpdated>(updated => OnMember(updated.Member));
        Receive<MemberDown>(down => OnMemberDown(down.Member, down.Reason));
        Receive<ConnectPeer>(OnConnectPeer);
        Receive<DialTick>(tick => OnDialTick(tick.Key));
        Receive<KeptChannelOverdue>(overdue => OnKeptChannelOverdue(overdue.NodeId));
        Receive<InboundChannel>(OnInboundChannel);
        Receive<PeerConnectionActor.ChannelHandshaken>(handshaken => OnHandshaken(Sender, handshaken.Identity));
        Receive<PeerConnectionActor.ConnectionEnded>(ended => OnConnectionEnded(Sender, ended.End));
        Receive<Terminated>(terminated => OnConnectionEnded(terminated.ActorRef, new ChannelEnd("its connection actor stopped")));
        Receive<GetListenEndpoint>(_ => ReplyListenEndpoint());
        Receive<GetPeers>(_ => Sender.Tell(_directory.Peers));
        Receive<ResetChannels>(OnResetChannels);
        Receive<StopPeers>(_ => OnStopPeers());
        Receive<StopDeadline>(_ => OnStopDeadline());
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The props of a node's peer manager.</summary>
    /// <param name="nodeId">This node's id, sent in every hello and compared with peers' ids to decide who dials.</param>
    /// <param name="nodeName">This node's name (<c>x-service-name</c> and hello <c>name</c>).</param>
    /// <param name="peerOptions">Queues, heartbeats, liveness, reconnection.</param>
    /// <param name="protocolOptions">Frame limit and write blocks.</param>
    /// <param name="transportOptions">Where to listen, HTTP/2 windows, keep-alive, connect timeout.</param>
    /// <param name="handler">Where envelopes from peers go, and who hears of peers coming and going.</param>
    /// <param name="directory">The directory the manager keeps up to date for readers that do not ask.</param>
    /// <param name="loggerFactory">Where the peer layer and its transport log; nowhere when null.</param>
    public static Props Props(
        string nodeId, string nodeName, PeerOptions peerOptions, ProtocolOptions protocolOptions, TransportOptions transportOptions,
        IPeerEnvelopeHandler handler, PeerDirectory directory, ILoggerFactory? loggerFactory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(nodeId);
        ArgumentException.ThrowIfNullOrWhiteSpace(nodeName);
        ArgumentNullException.ThrowIfNull(peerOptions);
        ArgumentNullException.ThrowIfNull(protocolOptions);
        ArgumentNullException.ThrowIfNull(transportOptions);
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(directory);
        return global::MeshActors.Actors.Props.Create(() => new PeerManagerActor(
            nodeId, nodeName, peerOptions, protocolOptions, transportOptions, handler, directory, loggerFactory ?? NullLoggerFactory.Instance));
    }

    /// <inheritdoc />
    /// <remarks>A connection actor that throws is stopped; its channel ends and the peer is redialed like after any failure.</remarks>
    protected override SupervisorStrategy SupervisorStrategy() => global::MeshActors.Actors.SupervisorStrategy.StoppingStrategy;

    /// <inheritdoc />
    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe<MemberEvent>(Self);
        _listenerStarted = _listener.StartAsync();
        _listenerStarted.ContinueWith(
            static (started, logger) => PeerLog.ListenerFailed((ILogger)logger!, started.Exception!.GetBaseException()),
            _logger, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    /// <inheritdoc />
    protected override void PostStop()
    {
        // After StopPeers this finds nothing left to do; after a crash or an abrupt system stop it resets what is open.
        CloseAllLinks("the node is stopping");
        _ = StopTransport();
    }

    private void ReplyListenEndpoint() =>
        _listenerStarted.PipeTo(Sender, success: () => new ListenEndpoint(_listener.AdvertisedEndPoint, _listener.LocalEndPoint));

    private string NextChildName(string prefix) => $"{prefix}-{++_childNames}";

    private void UpdateChannelCount() => _directory.SetChannelCount(_connections.Values.Count(entry => entry.Link is not null));

    private async Task StopTransportAsync()
    {
        try
        {
            await _listener.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _dialer.Dispose();
        }
    }

    // Runs on Kestrel's thread for each accepted channel; the channel lives until the returned task completes.
    private static Task OnInboundChannel(IActorRef manager, MeshChannel channel)
    {
        var inbound = new InboundChannel(channel);
        manager.Tell(inbound, ActorRefs.NoSender);
        return inbound.Done.Task;
    }

    private void OnInboundChannel(InboundChannel inbound)
    {
        if (!inbound.Claim())
        {
            return; // aborted on its way here: its handler has returned
        }

        if (_stopping)
        {
            inbound.Channel.Abort("the node is stopping");
            inbound.Done.TrySetResult();
            return;
        }

        var actor = Context.Watch(Context.ActorOf(PeerConnectionActor.Accepting(inbound.Channel, inbound.Done, _settings), NextChildName("in")));
        _connections[actor] = new ConnectionEntry(actor, target: null);
    }

    /// <summary>Dial the node listening at <paramref name="Host"/>:<paramref name="Port"/> (offering the mesh protocol; a plain listener gets a plain channel), and keep redialing it with backoff while it is not connected.</summary>
    public sealed record ConnectPeer(string Host, int Port);

    /// <summary>Asks for the listener's address, once it is bound; the reply is <see cref="ListenEndpoint"/> (or a failure if it could not bind).</summary>
    public sealed class GetListenEndpoint
    {
        private GetListenEndpoint()
        {
        }

        /// <summary>The only instance.</summary>
        public static GetListenEndpoint Instance { get; } = new();
    }

    /// <summary>The listener's address: <paramref name="Advertised"/> is what to register in discovery, <paramref name="Bound"/> the socket's.</summary>
    public sealed record ListenEndpoint(DnsEndPoint Advertised, IPEndPoint Bound);

    /// <summary>Resets every channel to the node <paramref name="NodeId"/> as a failed network would: what was in flight on them is lost, and they are redialed as after any failure.</summary>
    /// <remarks>For specs and diagnostics that need a channel to drop at a chosen moment.</remarks>
    public sealed record ResetChannels(string NodeId);

    /// <summary>Asks for every known peer; the reply is an <see cref="IReadOnlyCollection{IPeer}"/> (the <see cref="PeerDirectory"/> gives the same without asking).</summary>
    public sealed class GetPeers
    {
        private GetPeers()
        {
        }

        /// <summary>The only instance.</summary>
        public static GetPeers Instance { get; } = new();
    }

    /// <summary>
    /// An accepted channel on its way to the manager. Kestrel frees the request and response bodies once the
    /// listener's handler returns, so the handler returns when the channel's connection actor stops (after the
    /// channel's loops have ended), not when the channel is aborted; only a channel no actor claimed yet ends with its
    /// abort (should the manager be gone, the listener's stop aborts it).
    /// </summary>
    private sealed class InboundChannel
    {
        private readonly CancellationTokenRegistration _unclaimed;

        public InboundChannel(MeshChannel channel)
        {
            Channel = channel;
            _unclaimed = channel.Aborted.UnsafeRegister(static state => ((TaskCompletionSource)state!).TrySetResult(), Done);
        }

        public MeshChannel Channel { get; }

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Takes the end of the handler over from the abort; false when the abort came first.</summary>
        public bool Claim()
        {
            _unclaimed.Dispose(); // waits for a callback that is running
            return !Done.Task.IsCompleted;
        }
    }

    private void OnResetChannels(ResetChannels reset)
    {
        foreach (var entry in _connections.Values)
        {
            if ((entry.Link?.NodeId ?? entry.Identity?.NodeId) == reset.NodeId)
                Context.Stop(entry.Actor); // its PostStop aborts the channel: a reset, no goodbye
        }
    }
}
