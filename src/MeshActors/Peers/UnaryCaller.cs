using System.Collections.Concurrent;
using MeshActors.Protocol;
using MeshActors.Transport;

namespace MeshActors.Peers;

/// <summary>
/// The caller of one unary call (docs/protocol.md 10) as the envelope handler sees it: a short-lived peer whose answers
/// go to the call's response body. It gives each of the call's requests exactly one answer by its deadline, and tells
/// the call's writer once the request body has ended and every request is answered.
/// </summary>
/// <remarks>
/// Whoever removes a request from the awaited set answers it: the handler's <c>res</c> or <c>err</c>, or the deadline's
/// <c>err timeout</c> (which also cancels the handler); a <c>cancel</c> from the caller removes it without an answer.
/// The answers go through a <see cref="PeerLink"/> of the call's own, so queueing, overflow and counters are those of
/// any peer. The handler never hears <see cref="IPeerEnvelopeHandler.OnPeerConnected"/> or
/// <see cref="IPeerEnvelopeHandler.OnPeerDisconnected"/> for a caller: nothing is announced to it, and its hello may
/// name the node id of a connected peer, whose requests must not fail with the call.
/// </remarks>
internal sealed class UnaryCaller : IPeer
{
    private readonly ConcurrentDictionary<long, ITimer> _awaited = new();
    private readonly TimeSpan _defaultTimeout;
    private readonly Action<Envelope> _deliver;
    private readonly WakeSignal _writer;
    private volatile Envelope.Hello? _hello;
    private bool _admittedAny;
    private int _open = 1; // the request body, plus each request awaiting its answer
    private long _lastAnswered;
    private volatile bool _bodyEnded;
    private volatile bool _nodeStopping;

    /// <summary>A caller on <paramref name="channel"/>; <paramref name="deliver"/> hands an envelope to the handler as coming from it, <paramref name="writer"/> wakes the call's writer.</summary>
    public UnaryCaller(MeshChannel channel, PeerChannelSettings settings, Action<Envelope> deliver, WakeSignal writer)
    {
        var name = channel.RemoteServiceName ?? "?";
        Link = new PeerLink($"unary:{name}@{PeerLog.Format(channel.RemoteEndPoint)}", name, settings.Options, settings.Totals);
        SpeaksMeshProtocol = channel.ProtocolVersion is not null;
        _defaultTimeout = settings.Options.UnaryRequestTimeout;
        _deliver = deliver;
        _writer = writer;
    }

    /// <summary>How long a request without <c>timeout_ms</c> is given (<see cref="PeerOptions.UnaryRequestTimeout"/>): its deadline fires the handler's token.</summary>
    public TimeSpan DefaultTimeout => _defaultTimeout;

    /// <summary>The caller's node id from its hello; without one, <c>unary:{name}@{address}</c>.</summary>
    public string NodeId => _hello?.NodeId ?? Link.NodeId;

    /// <inheritdoc />
    public string Name => _hello?.Name ?? Link.Name;

    /// <inheritdoc />
    public bool IsConnected => !Link.Queue.IsClosed;

    /// <inheritdoc />
    public bool SpeaksMeshProtocol { get; }

    /// <summary>True when the caller's hello announced the <c>bin</c> capability; a caller without a hello gets no attachments.</summary>
    public bool AcceptsAttachments => _hello?.AcceptsAttachments ?? false;

    /// <inheritdoc />
    public long QueuedBytes => Link.QueuedBytes;

    /// <summary>The call's queue of answers and its counters (they add up into the node's totals).</summary>
    public PeerLink Link { get; }

    /// <summary>
    /// True once every request is answered or cancelled by the caller and the request body has ended, or, once the
    /// node stops (<see cref="OnNodeStopping"/>), whether it has ended or not.
    /// </summary>
    // _bodyEnded is set before the body's count is released: read after _open, it can only make the call look busier.
    public bool IsAnswered => Volatile.Read(ref _open) - (_nodeStopping && !_bodyEnded ? 1 : 0) == 0;

    /// <summary>True when the call ends before its request body did: the node stopped.</summary>
    public bool IsCutShort => _nodeStopping && !_bodyEnded;

    /// <summary>
    /// True while a request awaits its answer. An answer made and waiting for room in the call's queue does not count:
    /// it waits for the caller to read, and a caller that stops reading is as idle as one that sends nothing.
    /// </summary>
    public bool AwaitsAnswers => !_awaited.IsEmpty;

    /// <summary>When a request last stopped awaiting its answer (<see cref="Environment.TickCount64"/>): the caller's silence counts from then at the earliest.</summary>
    public long LastAnswered => Volatile.Read(ref _lastAnswered);

    /// <summary>True while request <paramref name="id"/> awaits its answer.</summary>
    public bool IsAwaited(long id) => _awaited.ContainsKey(id);

    /// <summary>
    /// Read loop: takes an envelope from the request body before it is handled as on any channel. Returns what to
    /// handle: requests and cancels are tracked, a first-frame hello identifies the caller (and gives
    /// <paramref name="writer"/> its frame limit and capabilities), and what nothing on a unary call asks for
    /// (interest, bye, res, err, pong) is ignored.
    /// </summary>
    /// <exception cref="MeshProtocolException">A hello after the first frame, or a request id already awaited.</exception>
    public Envelope? Admit(Envelope? envelope, FrameWriter writer)
    {
        if (envelope is null)
        {
            return null; // an empty frame, or an envelope waiting for its attachment: it counts once it comes
        }

        var first = !_admittedAny;
        _admittedAny = true;
        switch (envelope)
        {
            case Envelope.Hello hello when first:
                writer.ApplyPeerHello(hello);
                _hello = hello;
                return null;
            case Envelope.Hello:
                throw new MeshProtocolException(ErrorCodes.ProtocolError, "A hello may only be the first frame of a unary call.");
            case Envelope.Req req:
                Await(req);
                return req;
            case Envelope.Cancel cancel:
                if (TryClaim(cancel.Id))
                {
                    Release();
                }

                return cancel;
            case Envelope.Interest or Envelope.Bye or Envelope.Res or Envelope.Err or Envelope.Pong:
                return null;
            default:
                return envelope;
        }
    }

    /// <summary>Read loop: the request body ended; the call ends once every request is answered.</summary>
    public void OnBodyEnded()
    {
        _bodyEnded = true;
        Release();
    }

    /// <summary>
    /// The node stops: the call ends once the requests it has are answered, without waiting for the caller to end its
    /// body. A caller that keeps it open would hold the listener's stop.
    /// </summary>
    public void OnNodeStopping()
    {
        _nodeStopping = true;
        _writer.Wake();
    }

    /// <summary>The call ended: handlers of requests still unanswered are cancelled, and senders waiting for room are failed.</summary>
    public void End(string reason)
    {
        foreach (var id in _awaited.Keys)
        {
            if (TryClaim(id))
            {
                _deliver(new Envelope.Cancel(id));
            }
        }

        Link.Queue.Close(reason);
    }

    /// <inheritdoc />
    public bool TrySendOwed(Envelope envelope) => TrySend(envelope); // answers are owed here whichever way they come

    /// <inheritdoc />
    public bool TrySend(Envelope envelope)
    {
        if (!IsAnswer(envelope, out var id))
        {
            return Link.TrySend(envelope);
        }

        if (!TryClaim(id))
        {
            // Answered already, by its deadline: the late answer goes nowhere.
            Link.Stats.OnDropped();
            return false;
        }

        try
        {
            return Link.Queue.EnqueueOwed(envelope); // beyond the cap if need be (by a margin): the caller is owed exactly this
        }
        finally
        {
            Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask SendAsync(Envelope envelope, CancellationToken cancellationToken = default)
    {
        if (!IsAnswer(envelope, out var id))
        {
            await Link.SendAsync(envelope, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (!TryClaim(id))
        {
            Link.Stats.OnDropped();
            return;
        }

        try
        {
            await Link.SendAsync(envelope, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Release();
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"unary caller '{Name}' ({NodeId})";

    private static bool IsAnswer(Envelope envelope, out long id)
    {
        (var isAnswer, id) = envelope switch
        {
            Envelope.Res res => (true, res.Id),
            Envelope.Err { Id: { } errId } => (true, errId),
            _ => (false, 0L),
        };
        return isAnswer;
    }

    private void Await(Envelope.Req req)
    {
        var timeout = req.Timeout ?? _defaultTimeout;
        // Armed only once awaited, so that even a 1 ms deadline finds its request.
        var deadline = TimeProvider.System.CreateTimer(
            static state => ((Deadline)state!).Expire(), new Deadline(this, req.Id, timeout), Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (!_awaited.TryAdd(req.Id, deadline))
        {
            deadline.Dispose();
            throw new MeshProtocolException(ErrorCodes.BadEnvelope, $"Request {req.Id} is already awaiting its answer on this call.");
        }

        Interlocked.Increment(ref _open);
        deadline.Change(timeout, Timeout.InfiniteTimeSpan);
    }

    private void Expire(long id, TimeSpan timeout)
    {
        if (!TryClaim(id))
        {
            return;
        }

        Link.Queue.EnqueueOwed(new Envelope.Err(ErrorCodes.Timeout, $"Request {id} was not answered within {timeout.TotalMilliseconds:0} ms.") { Id = id });
        _deliver(new Envelope.Cancel(id));
        Release();
    }

    private bool TryClaim(long id)
    {
        if (!_awaited.TryRemove(id, out var deadline))
        {
            return false;
        }

        deadline.Dispose();
        Volatile.Write(ref _lastAnswered, Environment.TickCount64);
        return true;
    }

    private void Release()
    {
        // Answered at 0, or at 1 once the node stops (the open body no longer counts): the writer ends the call then.
        var open = Interlocked.Decrement(ref _open);
        if (open == 0 || (open == 1 && _nodeStopping))
        {
            _writer.Wake();
        }
    }

    private sealed record Deadline(UnaryCaller Caller, long Id, TimeSpan Timeout)
    {
        public void Expire() => Caller.Expire(Id, Timeout);
    }
}
