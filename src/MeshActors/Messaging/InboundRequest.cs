using MeshActors.Peers;
using MeshActors.Protocol;

namespace MeshActors.Messaging;

/// <summary>A request this node serves, from its arrival until it is answered, cancelled, or its requester is gone.</summary>
internal sealed class InboundRequest(IPeer? peer, string senderId, string senderName, Envelope.Req req)
{
    private readonly CancellationTokenSource _cancellation = new();

    /// <summary>The channel it came on, where the answer goes; null for a request from this node itself.</summary>
    public IPeer? Peer { get; } = peer;

    public string SenderId { get; } = senderId;

    public string SenderName { get; } = senderName;

    public Envelope.Req Req { get; } = req;

    /// <summary>Fires when the requester cancels or disconnects.</summary>
    public CancellationToken Token => _cancellation.Token;

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
