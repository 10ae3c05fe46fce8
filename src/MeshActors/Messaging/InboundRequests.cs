using System.Collections.Concurrent;

namespace MeshActors.Messaging;

/// <summary>The requests this node is serving, by requester and id, so that a <c>cancel</c> or a disconnect reaches their handlers.</summary>
internal sealed class InboundRequests
{
    private readonly ConcurrentDictionary<(string NodeId, long Id), InboundRequest> _inFlight = new();

    public int Count => _inFlight.Count;

    /// <summary>False when the requester already has a request with this id in flight.</summary>
    public bool TryAdd(InboundRequest request) => _inFlight.TryAdd((request.SenderId, request.Req.Id), request);

    /// <summary>True when the request is still wanted and now finished, so its answer must be sent; false when it was cancelled.</summary>
    public bool TryFinish(InboundRequest request) =>
        _inFlight.TryRemove(new KeyValuePair<(string, long), InboundRequest>((request.SenderId, request.Req.Id), request));

    /// <summary>The requester no longer waits for request <paramref name="id"/>: its handler's token fires and no answer is sent.</summary>
    public void Cancel(string nodeId, long id)
    {
        if (_inFlight.TryRemove((nodeId, id), out var request))
            request.Cancel();
    }

    /// <summary>The requester is gone: every request it made is cancelled.</summary>
    public void CancelAll(string nodeId)
    {
        foreach (var (key, _) in _inFlight)
        {
            if (key.NodeId == nodeId)
                Cancel(key.NodeId, key.Id);
        }
    }
}
