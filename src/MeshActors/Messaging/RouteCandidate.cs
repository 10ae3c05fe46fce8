namespace MeshActors.Messaging;

/// <summary>One node a message or request may go to, as a <see cref="ILoadBalancer"/> sees it.</summary>
/// <remarks>
/// The same instance stands for a node for as long as it is connected, so its counters are live. This node has two: one
/// in its topic groups, whose load is what waits for its callback subscribers, and one among the providers of its
/// services; they share the count of requests.
/// </remarks>
public sealed class RouteCandidate
{
    private readonly Func<long>? _queuedHere;
    private readonly RouteCandidate? _requestsOf;
    private int _outstandingRequests;

    internal RouteCandidate(string nodeId, string name, Peers.IPeer? peer, Func<long>? queuedHere = null, RouteCandidate? requestsOf = null)
    {
        NodeId = nodeId;
        Name = name;
        Peer = peer;
        _queuedHere = queuedHere;
        _requestsOf = requestsOf;
    }

    /// <summary>The node's id.</summary>
    public string NodeId { get; }

    /// <summary>The node's name (its group).</summary>
    public string Name { get; }

    /// <summary>True for this node itself.</summary>
    public bool IsLocal => Peer is null;

    /// <summary>Requests this node has sent to it that are not answered yet.</summary>
    public int OutstandingRequests => _requestsOf?.OutstandingRequests ?? Volatile.Read(ref _outstandingRequests);

    /// <summary>
    /// Bytes queued for it and not yet written to its channel; for this node, the bytes waiting for its callback
    /// subscribers to take them, so that a node whose own subscribers are behind is not taken for the least loaded.
    /// </summary>
    public long QueuedBytes => Peer?.QueuedBytes ?? _queuedHere?.Invoke() ?? 0;

    /// <summary>The channel to it; null for this node.</summary>
    internal Peers.IPeer? Peer { get; }

    internal void RequestStarted() => Interlocked.Increment(ref _outstandingRequests);

    internal void RequestEnded() => Interlocked.Decrement(ref _outstandingRequests);

    /// <inheritdoc />
    public override string ToString() => $"{Name}/{NodeId}";
}
