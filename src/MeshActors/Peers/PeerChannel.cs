using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using MeshActors.Protocol;
using MeshActors.Transport;

namespace MeshActors.Peers;

/// <summary>
/// One channel to a peer at work, outside any actor: its handshake, a read loop that hands envelopes straight to the
/// envelope handler, and a write loop that drains the channel's own control frames and, once the peer manager has made
/// it the peer's channel, the peer's outbound queue. Its <see cref="PeerConnectionActor"/> drives its life.
/// </summary>
/// <remarks>
/// Closing follows docs/protocol.md 7.4 and 7.5: the last frame (a <c>bye</c> or a closing <c>err</c>) goes out after
/// what the writer had taken, the output is completed, and the input is read to its end (delivered after a goodbye,
/// discarded after an error) for at most <see cref="PeerOptions.GoodbyeGrace"/> before the stream is reset.
/// </remarks>
internal sealed partial class PeerChannel : IOutboundConsumer
{
    [Flags]
    private enum States
    {
        Aborted = 1,
        Closing = 2,
        Discarding = 4,
        Started = 8,
        Paused = 16,
        Ending = 32, // the close began (Close or Abort); Closing follows once its last frame is in place
    }

    // A peer that reads nothing must not make this node hold an answer per frame it sends: a pong answers the newest
    // ping, a heartbeat waits for the one before it, and past this many queued errs the channel closes.
    internal const int MaxQueuedErrs = 256;

    private readonly PeerChannelSettings _settings;
    private readonly MeshChannel? _accepted;
    private readonly DnsEndPoint? _dialTo;
    private readonly bool _offerProtocol;
    private readonly ConcurrentQueue<Envelope> _control = new(); // errs
    private readonly EnvelopeDecoder _decoder = new();
    private readonly TaskCompletionSource<ChannelEnd> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _grace = new();
    private Task? _afterGoodbye; // the peer said goodbye: this side ends once the peer's requests are answered
    private readonly TaskCompletionSource _aborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Envelope.Pong? _pong;
    private Envelope.Ping? _ping;
    private Envelope? _lastFrame;
    private Task? _consumerBehind;
    private MeshChannel? _channel;
    private FrameWriter? _writer;
    private PeerLink? _link;
    private UnaryCaller? _unary;
    private bool _plain;
    private int _states;
    private ChannelEnd? _end;
    private long _lastReceived;
    private long _lastSent;

    private PeerChannel(PeerChannelSettings settings, MeshChannel? accepted, DnsEndPoint? dialTo, bool offerProtocol)
    {
        _settings = settings;
        _accepted = accepted;
        _dialTo = dialTo;
        _offerProtocol = offerProtocol;
    }

    /// <inheritdoc />
    public WakeSignal Signal { get; } = new();

    /// <summary>Completes once both loops have ended and the stream is released, with the first cause of the end.</summary>
    public Task<ChannelEnd> Completion => _completion.Task;

    /// <summary>What the log calls this channel.</summary>
    public string Description =>
        _unary is not null ? $"unary call from '{_accepted!.RemoteServiceName}' at {PeerLog.Format(_accepted.RemoteEndPoint)}"
        : _channel?.ToString() ?? $"channel being dialed to {PeerLog.Format(_dialTo)}";

    /// <summary>A channel a remote node opened to this node's listener.</summary>
    public static PeerChannel Accept(MeshChannel channel, PeerChannelSettings settings) => new(settings, channel, null, offerProtocol: false);

    /// <summary>A channel this node will dial; <paramref name="offerProtocol"/> false dials a plain Marketrix peer.</summary>
    public static PeerChannel Dial(DnsEndPoint address, bool offerProtocol, PeerChannelSettings settings) => new(settings, null, address, offerProtocol);

    // Of two channels one node dialed to a peer, the one with the smaller session id stays (protocol.md 7.4). These ids
    // shrink as time passes (2^63-1 minus the clock's ticks, then random digits), so the newest dial wins: a node that
    // restarted with its node id, or dialed again past a half-open channel, is not turned away as the duplicate.
    private static string NewSessionId() =>
        string.Create(CultureInfo.InvariantCulture, $"{long.MaxValue - DateTime.UtcNow.Ticks:x16}{Random.Shared.NextInt64():x16}");

    /// <summary>
    /// Dials when needed, then shakes hands. Returns who the peer is, or null when the handshake failed: the channel
    /// then closes itself (an <c>err</c> frame where the protocol wants one) and <see cref="Completion"/> says why.
    /// </summary>
    /// <exception cref="ChannelConnectException">The dial failed.</exception>
    /// <exception cref="ChannelRejectedException">The listener refused the channel.</exception>
    public async Task<PeerIdentity?> OpenAsync()
    {
        var channel = _accepted ?? await _settings.Dialer.OpenChannelAsync(
            _dialTo!, NewSessionId(), _offerProtocol ? OfferV1 : null).ConfigureAwait(false);
        Interlocked.Exchange(ref _channel, channel);
        if (Has(States.Aborted))
        {
            // Stopped while the dial was in flight.
            channel.Abort("the connection was stopped while it was being opened");
            return FailStart(new ChannelEnd("stopped while opening"));
        }

        _writer = new FrameWriter(channel.Output, _settings.Protocol);
        _lastReceived = _lastSent = Environment.TickCount64;
        if (channel.ProtocolVersion is null)
        {
            _plain = true;
            return Identity(nodeId: null, channel.RemoteServiceName, speaksMeshProtocol: false, acceptsAttachments: false);
        }

        try
        {
            if (channel.ProtocolVersion != WireProtocol.Version)
            {
                throw new MeshProtocolException(ErrorCodes.UnsupportedVersion, channel.IsInbound
                    ? $"The peer offered no protocol version this node speaks (it speaks {WireProtocol.Version})."
                    : $"The listener chose protocol version {channel.ProtocolVersion}; this node offered {WireProtocol.Version}.");
            }

            if (_unary is not null)
            {
                // A unary call has no handshake: its caller's hello, if any, is the first frame the read loop takes.
                return Identity(nodeId: null, channel.RemoteServiceName, speaksMeshProtocol: true, acceptsAttachments: false);
            }

            _writer.Write(_settings.SelfHello);
            await _writer.FlushAsync().ConfigureAwait(false);
            var hello = await ReadHelloAsync(channel.Input).ConfigureAwait(false);
            _writer.ApplyPeerHello(hello);
            return Identity(hello.NodeId, hello.Name, speaksMeshProtocol: true, hello.AcceptsAttachments, hello.MaxFrameSize, hello.Incarnation);
        }
        catch (MeshProtocolException e)
        {
            Reject(e);
            Fail(e);
        }
        catch (PeerClosedException e)
        {
            Close(new ChannelEnd(e.Message), lastFrame: null);
        }
        catch (ChannelClosedException e)
        {
            Close(new ChannelEnd("the channel was lost during the handshake", e), lastFrame: null);
        }

        Start(link: null, attachment: null);
        return null;
    }

    /// <summary>
    /// Starts the loops: envelopes from the peer reach the handler as coming from <paramref name="link"/> (discarded
    /// when null); given an <paramref name="attachment"/> number, the writer drains the link's queue.
    /// </summary>
    public void Start(PeerLink? link, long? attachment)
    {
        _link = link;
        if (link is null)
        {
            Set(States.Discarding);
        }

        Set(States.Started);
        if (attachment is { } number)
        {
            Attach(number);
        }

        var reading = Task.Run(ReadLoopAsync);
        var writing = Task.Run(WriteLoopAsync);
        _ = CompleteAsync(reading, writing);
    }

    /// <summary>Makes this channel's writer the one that drains the link's queue (the previous channel's stops), unless a later attachment came first.</summary>
    public void Attach(long attachment) => _link?.Queue.Attach(this, attachment);

    /// <summary>Ends the channel in order: <c>bye</c> with <paramref name="reason"/> after what the writer took, then the end of the output; the input is still delivered.</summary>
    public void Goodbye(string reason) => Close(new ChannelEnd($"this node said goodbye ({reason})"), new Envelope.Bye(reason));

    /// <summary>
    /// Called periodically: queues a <c>ping</c> when nothing was sent for the heartbeat interval, and returns true when
    /// nothing was received for the liveness timeout (the caller then aborts the channel as hung).
    /// </summary>
    public bool CheckLiveness()
    {
        if (_plain || !Has(States.Started) || Has(States.Closing))
        {
            return false;
        }

        // While its reads are paused for a slow consumer this node cannot judge the peer's silence, but it still
        // pings: otherwise the peer, hearing nothing, would close the channel as hung and lose what waits on it.
        var now = Environment.TickCount64;
        if (!Has(States.Paused) && now - Volatile.Read(ref _lastReceived) >= (long)_settings.Options.LivenessTimeout.TotalMilliseconds)
        {
            return true;
        }

        if (now - Volatile.Read(ref _lastSent) >= (long)_settings.Options.HeartbeatInterval.TotalMilliseconds)
        {
            SendControl(new Envelope.Ping(now));
        }

        return false;
    }

    /// <summary>Resets the stream (see <see cref="MeshChannel.Abort"/>); the loops then end. Works while the dial is still in flight too.</summary>
    public void Abort(string reason)
    {
        SetEnd(new ChannelEnd(reason));
        Set(States.Aborted | States.Ending | States.Closing | States.Discarding);
        Volatile.Read(ref _channel)?.Abort(reason);
        Signal.Wake(); // a writer with nothing to write would otherwise sleep on
        _aborted.TrySetResult(); // and a reader waiting for its consumer
    }

    private static readonly IReadOnlyDictionary<string, string> OfferV1 = new Dictionary<string, string>
    {
        [WireProtocol.VersionHeader] = WireProtocol.Version.ToString(CultureInfo.InvariantCulture),
    };

    private PeerIdentity Identity(
        string? nodeId, string? name, bool speaksMeshProtocol, bool acceptsAttachments, int maxFrameSize = ProtocolOptions.DefaultMaxFrameSize, string? incarnation = null)
    {
        var channel = _channel!;
        return new PeerIdentity(nodeId, name, speaksMeshProtocol, acceptsAttachments, !channel.IsInbound, channel.SessionId, channel.RemoteEndPoint, maxFrameSize, incarnation);
    }

    private PeerIdentity? FailStart(ChannelEnd end)
    {
        SetEnd(end);
        _completion.TrySetResult(_end!);
        return null;
    }

    // Queues a frame of this channel's own (ping, pong, err); nothing goes out after the last frame of a close.
    private void SendControl(Envelope envelope)
    {
        if (Has(States.Closing))
        {
            return;
        }

        switch (envelope)
        {
            case Envelope.Pong pong:
                Volatile.Write(ref _pong, pong);
                break;
            case Envelope.Ping ping:
                Interlocked.CompareExchange(ref _ping, ping, null);
                break;
            default:
                _control.Enqueue(envelope);
                break;
        }

        Signal.Wake();
    }

    /// <summary>The peer broke the protocol: send <c>err</c> (v1), stop interpreting its frames, close (docs/protocol.md 7.5).</summary>
    private void Fail(MeshProtocolException exception)
    {
        Set(States.Discarding);
        Close(new ChannelEnd($"{exception.Code}: {exception.Message}", exception), _plain ? null : Envelope.Err.From(exception));
    }

    private void Close(ChannelEnd end, Envelope? lastFrame)
    {
        SetEnd(end);
        if ((Set(States.Ending) & States.Ending) != 0)
        {
            return;
        }

        _link?.Queue.Detach(this);
        _lastFrame = _plain ? null : lastFrame;
        // The grace bounds the whole close, including a writer stuck behind a peer that does not read.
        _grace.Token.UnsafeRegister(static state => ((PeerChannel)state!).Abort("the peer did not end its side within the goodbye grace"), this);
        _grace.CancelAfter(_settings.Options.GoodbyeGrace);
        // Last: a writer that sees Closing sends the last frame and ends its output, and the loops may then end (and
        // dispose the grace) at once.
        Set(States.Closing);
        Signal.Wake();
    }

    private void Reject(MeshProtocolException exception)
    {
        (_link?.Stats ?? _settings.Totals).OnBadFrame();
        PeerLog.BadFrame(_settings.Logger, Description, exception.Code, exception.Message, exception.ClosesChannel ? "closing the channel" : "continuing");
    }

    private void SetEnd(ChannelEnd end) => Interlocked.CompareExchange(ref _end, end, null);

    private async Task CompleteAsync(Task reading, Task writing)
    {
        try
        {
            await Task.WhenAll(reading, writing).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The loops catch what they expect; only completing a pipe could still throw here.
            PeerLog.ChannelBug(_settings.Logger, Description, e);
            Abort($"a loop failed: {e.Message}");
        }

        _link?.Queue.Detach(this);
        _grace.Dispose();
        var end = Volatile.Read(ref _end) ?? new ChannelEnd("ended");
        _unary?.End(end.Reason);
        if (_channel is { } channel)
        {
            // Releases the stream; resets it if a direction is somehow still open.
            await channel.DisposeAsync().ConfigureAwait(false);
        }

        PeerLog.ChannelEnded(_settings.Logger, Description, end.Reason);
        _completion.TrySetResult(end);
    }

    private States Set(States states) => (States)Interlocked.Or(ref _states, (int)states);

    private void Clear(States states) => Interlocked.And(ref _states, ~(int)states);

    private bool Has(States state) => ((States)Volatile.Read(ref _states) & state) != 0;
}
