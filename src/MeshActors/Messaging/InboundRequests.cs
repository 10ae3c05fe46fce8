using System.Collections.Concurrent;
using MeshActors.Peers;

namespace MeshActors.Messaging;

/// <summary>The requests this node is serving, by the peer they came from and their id, so that a <c>cancel</c> or a disconnect reaches their handlers.</summary>
/// <remarks>
/// Keyed by the peer instance rather than its node id: ids are unique per channel (docs/protocol.md 5.3), and a unary
/// call is a peer of its own even when its caller named the node id of a connected peer in its hello.
/// </remarks>
/// <param name="expired">Told of a request given up at its deadline, to answer its requester.</param>
internal sealed class InboundRequests(Action<InboundRequest> expired)
{
    // A request whose requester gave a timeout (timeout_ms) is given up when it passes, also without a cancel, which a
    // requester need not send (docs/protocol.md 5.6): by one sweep every quarter second while any is in flight, not by
    // a timer per request.
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(250);

    private readonly ConcurrentDictionary<(IPeer? Origin, long Id), InboundRequest> _inFlight = new();
    private readonly WaitersSignal _ended = new();
    private TaskCompletionSource? _drained;
    private ITimer? _sweep;
    private int _sweeping;

    public int Count => _inFlight.Count;

    /// <summary>True once the node is stopping: it answers what it has and takes nothing new from its peers.</summary>
    public bool IsDraining => Volatile.Read(ref _drained) is not null;

    /// <summary>True while <paramref name="origin"/>'s request <paramref name="id"/> is in flight here.</summary>
    public bool Contains(IPeer? origin, long id) => _inFlight.ContainsKey((origin, id));

    /// <summary>False when the requester already has a request with this id in flight.</summary>
    public bool TryAdd(InboundRequest request)
    {
        if (!_inFlight.TryAdd((request.Peer, request.Req.Id), request))
            return false;
        if (request.Deadline != 0)
            SweepSoon();
        return true;
    }

    /// <summary>
    /// True when the request is still wanted and now finished, so its answer must be sent (then call
    /// <see cref="Answered"/>); false when it was cancelled. It stays in flight until its answer is queued, which may
    /// wait for room: a stop or a goodbye waiting for the requests to end also waits for that.
    /// </summary>
    public bool TryFinish(InboundRequest request) => request.TryFinish();

    /// <summary>
    /// The answer of a finished request is queued (or could not be): whoever waits for the requests to end (a stopping
    /// node, a channel whose peer said goodbye) may now look at the queue, and find the answer in it.
    /// </summary>
    public void Answered(InboundRequest request)
    {
        _inFlight.TryRemove(new KeyValuePair<(IPeer?, long), InboundRequest>((request.Peer, request.Req.Id), request));
        OnEnded();
    }

    /// <summary>Completes once no request is in flight, or after <paramref name="timeout"/>: how a stopping node lets its handlers answer.</summary>
    public async Task DrainAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _drained, drained);
        SignalIfDrained();
        try
        {
            await drained.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Requests still running after the grace are cut off with their channels: their requesters fail at once.
        }
    }

    /// <summary>Completes once no request from <paramref name="origin"/> is in flight: each answered, or cancelled.</summary>
    public async Task WhenAnsweredAsync(IPeer origin, CancellationToken cancellationToken)
    {
        while (true)
        {
            var ended = _ended.WaitTask; // before the look, so that an end after it completes the wait
            if (!_inFlight.Keys.Any(key => ReferenceEquals(key.Origin, origin)))
                return;
            await ended.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void OnEnded()
    {
        if (_ended.HasWaiters)
            _ended.Release();
        SignalIfDrained();
    }

    private void SignalIfDrained()
    {
        if (_inFlight.IsEmpty && Volatile.Read(ref _drained) is { } drained)
            drained.TrySetResult();
    }

    /// <summary>The requester (<paramref name="origin"/>, null for this node) no longer waits for request <paramref name="id"/>: its handler's token fires and no answer is sent.</summary>
    public void Cancel(IPeer? origin, long id)
    {
        // One whose answer is being queued is no longer cancelled: the answer goes, and the requester ignores it.
        if (_inFlight.TryGetValue((origin, id), out var request) && request.TryCancel())
            Drop((origin, id), request);
    }

    /// <summary>
    /// The requester is gone: every request it made is dropped, its handler's token fired, and an answer still waiting
    /// for room in the requester's queue given up (it waits on that token); the requester's ids are free again.
    /// </summary>
    public void CancelAll(IPeer origin)
    {
        foreach (var (key, request) in _inFlight)
        {
            if (ReferenceEquals(key.Origin, origin))
            {
                request.TryCancel(); // whatever its state
                Drop(key, request);
            }
        }
    }

    private void SweepSoon()
    {
        // Read first: while a sweep is due (nearly always, under load), every request leaves the flag's line shared.
        if (Volatile.Read(ref _sweeping) != 0 || Interlocked.CompareExchange(ref _sweeping, 1, 0) != 0)
            return;
        _sweep ??= TimeProvider.System.CreateTimer(static state => ((InboundRequests)state!).Sweep(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _sweep.Change(SweepInterval, Timeout.InfiniteTimeSpan);
    }

    private void Sweep()
    {
        var now = Environment.TickCount64;
        var waiting = false;
        foreach (var (key, request) in _inFlight)
        {
            if (request.Deadline == 0)
                continue;
            if (now < request.Deadline)
                waiting = true;
            else if (request.TryCancel())
            {
                Drop(key, request);
                expired(request);
            }
        }

        Volatile.Write(ref _sweeping, 0);
        // Looked at again after the flag is down: a request added meanwhile may have found it up.
        if (waiting || _inFlight.Values.Any(request => request.Deadline != 0))
            SweepSoon();
    }

    // Out of the table, its handler's token fired.
    private void Drop((IPeer?, long) key, InboundRequest request)
    {
        if (_inFlight.TryRemove(new KeyValuePair<(IPeer?, long), InboundRequest>(key, request)))
        {
            request.Cancel();
            OnEnded();
        }
    }
}
