namespace MeshActors.Peers;

/// <summary>A send found the peer's outbound queue at its byte cap and the overflow policy is to fail.</summary>
public sealed class PeerQueueFullException(string nodeId, long capBytes)
    : Exception($"The outbound queue to node {nodeId} is full ({capBytes} bytes queued); the message was not sent.")
{
    /// <summary>The peer whose queue is full.</summary>
    public string NodeId { get; } = nodeId;
}

/// <summary>A send or request addressed a peer that has left the mesh or whose channel is gone.</summary>
public sealed class PeerUnavailableException(string nodeId, string reason, Exception? innerException = null)
    : Exception($"Node {nodeId} is unavailable: {reason}", innerException)
{
    /// <summary>The peer that is unavailable.</summary>
    public string NodeId { get; } = nodeId;
}
