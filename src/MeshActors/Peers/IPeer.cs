using MeshActors.Protocol;

namespace MeshActors.Peers;

/// <summary>One remote node as the messaging layer sees it: who it is and a queue of envelopes to it.</summary>
/// <remarks>
/// Implemented by the peer layer; one instance per remote node id, kept across reconnects, so that what was
/// queued during a reconnect is sent on the next channel. Thread-safe: any thread may send.
/// </remarks>
internal interface IPeer
{
    /// <summary>The remote node's id (from its hello, or from discovery for a plain Marketrix peer).</summary>
    string NodeId { get; }

    /// <summary>The remote node's name (its service name); nodes with the same name form a group.</summary>
    string Name { get; }

    /// <summary>True when a channel is up and handshaken.</summary>
    bool IsConnected { get; }

    /// <summary>False for a plain Marketrix peer: it accepts only raw messages (<see cref="Envelope.Raw"/>).</summary>
    bool SpeaksMeshProtocol { get; }

    /// <summary>True when the peer announced the <c>bin</c> capability.</summary>
    bool AcceptsAttachments { get; }

    /// <summary>The largest frame payload the peer accepts: the <c>max_frame</c> of its last hello (kept across reconnects), the protocol's default before one. An envelope above it is dropped when its turn comes.</summary>
    int MaxFrameSize => ProtocolOptions.DefaultMaxFrameSize;

    /// <summary>Bytes queued and not yet written to the channel; what the least-outstanding strategies compare. 0 when the implementation does not track it.</summary>
    long QueuedBytes => 0;

    /// <summary>Queues <paramref name="envelope"/> without waiting; false (and counted as a drop) when the queue is at its byte cap or the peer is gone.</summary>
    bool TrySend(Envelope envelope);

    /// <summary>
    /// Queues what this node owes the peer, without waiting: an answer to one of its requests (each is owed exactly
    /// one, and a lost one leaves its requester waiting), or the <c>cancel</c> of a request of this node's (a lost one
    /// leaves its handler running). Beyond the byte cap if need be, by a bounded margin.
    /// </summary>
    bool TrySendOwed(Envelope envelope) => TrySend(envelope);

    /// <summary>Queues <paramref name="envelope"/>, waiting for room under the wait overflow policy.</summary>
    /// <exception cref="PeerQueueFullException">The queue is at its byte cap and the policy is to fail.</exception>
    /// <exception cref="PeerUnavailableException">The peer left the mesh.</exception>
    ValueTask SendAsync(Envelope envelope, CancellationToken cancellationToken = default);

    /// <summary>Queues <paramref name="envelope"/>, waiting for room whatever the overflow policy: for the mesh's own announcements, which must not be lost.</summary>
    /// <exception cref="PeerUnavailableException">The peer left the mesh.</exception>
    ValueTask SendWaitingAsync(Envelope envelope, CancellationToken cancellationToken = default) => SendAsync(envelope, cancellationToken);
}
