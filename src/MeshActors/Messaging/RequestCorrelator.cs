using System.Collections.Concurrent;
using MeshActors.Peers;
using MeshActors.Protocol;

namespace MeshActors.Messaging;

/// <summary>Matches answers to the requests this node sent: one id counter for the node, one table of requests in flight.</summary>
/// <remarks>Lock-free: callers register and abandon on their own threads, and the channels' read loops complete.</remarks>
internal sealed class RequestCorrelator(MessagingStats stats)
{
    private readonly ConcurrentDictionary<long, PendingRequest> _pending = new();

    // Each run starts its ids from the clock (milliseconds since 2020, times 1024: ids grow by far less than 1024 a
    // millisecond), so that a node restarted with its id never reuses an id of its previous run (docs/protocol.md 5.3),
    // whose answers may still be on their way. Room to 2^53 for some 270 years.
    private long _lastId = (DateTime.UtcNow - new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc)).Ticks / TimeSpan.TicksPerMillisecond * 1024;

    /// <summary>Requests waiting for an answer.</summary>
    public int Count => _pending.Count;

    public PendingRequest Start(string service, RouteCandidate target)
    {
        var pending = new PendingRequest(Interlocked.Increment(ref _lastId), service, target);
        _pending[pending.Id] = pending;
        target.RequestStarted();
        return pending;
    }

    /// <summary>True while request <paramref name="id"/> to <paramref name="nodeId"/> waits for its answer.</summary>
    public bool IsAwaited(string nodeId, long id) => _pending.TryGetValue(id, out var pending) && pending.Target.NodeId == nodeId;

    /// <summary>Completes request <paramref name="id"/> with <paramref name="answer"/>, if <paramref name="nodeId"/> is the node it was sent to and it is still awaited.</summary>
    public void Complete(string nodeId, long id, Envelope answer)
    {
        if (_pending.TryGetValue(id, out var pending) && pending.Target.NodeId == nodeId && Remove(pending))
            pending.Answer(answer);
        else
            stats.OnUnmatchedAnswer(); // timed out or cancelled meanwhile, or a peer answering what it was not asked
    }

    /// <summary>Stops waiting for <paramref name="pending"/>; false when it was already answered or failed.</summary>
    public bool Remove(PendingRequest pending)
    {
        if (!_pending.TryRemove(new KeyValuePair<long, PendingRequest>(pending.Id, pending)))
            return false;
        pending.Target.RequestEnded();
        return true;
    }

    /// <summary>Fails, at once, every request in flight to <paramref name="nodeId"/>: its channel is gone, so no answer will come.</summary>
    public void FailAll(string nodeId, Exception? reason)
    {
        foreach (var (_, pending) in _pending)
        {
            if (pending.Target.NodeId == nodeId && Remove(pending))
            {
                pending.Fail(new PeerUnavailableException(
                    nodeId, $"its channel closed while request {pending.Id} to service '{pending.Service}' was in flight", reason));
            }
        }
    }
}
