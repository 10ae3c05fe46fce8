using MeshActors.Peers;
using MeshActors.Protocol;

namespace MeshActors.Messaging;

/// <summary>A request this node serves, from its arrival until it is answered, cancelled, or its requester is gone.</summary>
internal sealed class InboundRequest(IPeer? peer, string senderId, string senderName, Envelope.Req req)
{
    private const int Running = 0, Finished = 1, Cancelled = 2;

    private readonly CancellationTokenSource _cancellation = new();
    private int _state;

    /// <summary>The channel it came on, where the answer goes; null for a request from this node itself.</summary>
    public IPeer? Peer { get; } = peer;

    public string SenderId { get; } = senderId;

    public string SenderName { get; } = senderName;

    public Envelope.Req Req { get; } = req;

    /// <summary>When its requester gives up (<see cref="Environment.TickCount64"/>), from its <c>timeout_ms</c>; 0 for none, or for this node's own request.</summary>
    public long Deadline { get; } = peer is not null && req.Timeout is { } timeout ? Environment.TickCount64 + (long)timeout.TotalMilliseconds : 0;

    /// <summary>Fires when the requester cancels or disconnects.</summary>
    public CancellationToken Token => _cancellation.Token;

    /// <summary>Its handler is done, and its answer is to be queued; false when it was cancelled first.</summary>
    public bool TryFinish() => Interlocked.CompareExchange(ref _state, Finished, Running) == Running;

    /// <summary>Its requester no longer waits; false when its answer is being queued already.</summary>
    public bool TryCancel() => Interlocked.CompareExchange(ref _state, Cancelled, Running) == Running;

    /// <summary>Fires <see cref="Token"/>; call after <see cref="TryCancel"/> succeeded.</summary>
    public void Cancel()
    {
        try
        {
            _cancellation.Cancel();
        }
        catch (AggregateException)
        {
            // A handler's own cancellation callback threw; the handler sees it through its token, nothing is owed here.
        }
    }
}
