using MeshActors.Protocol;

namespace MeshActors.Peers;

/// <summary>Where the peer layer hands what it receives: implemented by the messaging layer.</summary>
/// <remarks>Called on a channel's read loop, in the order frames arrive: implementations must not block.</remarks>
internal interface IPeerEnvelopeHandler
{
    /// <summary>A channel to <paramref name="peer"/> finished its handshake, or took over from the one that carried it; a good moment to send it our interest.</summary>
    void OnPeerConnected(IPeer peer);

    /// <summary>An envelope arrived from <paramref name="peer"/>: pub, req, res, err with an id, cancel, interest or raw.</summary>
    /// <remarks>hello, ping, pong and bye are the peer layer's own business and never reach here.</remarks>
    /// <returns>
    /// Completed, or when whoever consumes what the peer sends has fallen behind, a task that completes once it has
    /// caught up: the channel finishes its current read, then reads nothing more from the peer until then (HTTP/2 flow
    /// control holds the peer back, and the liveness check does not count the pause).
    /// </returns>
    ValueTask OnEnvelope(IPeer peer, Envelope envelope);

    /// <summary>A read loop is about to hand over the envelopes of one read, on this thread, through <see cref="OnEnvelope"/>.</summary>
    void OnReadStarting()
    {
    }

    /// <summary>The read loop handed over every envelope of the read that <see cref="OnReadStarting"/> began: what they brought can go on, together.</summary>
    void OnReadEnded()
    {
    }

    /// <summary>
    /// Asked before <paramref name="req"/>, queued for <paramref name="nodeId"/>, is written, and when its sender waits for
    /// room: false when this node no longer waits for the answer (its caller timed out or cancelled, or was failed when
    /// the channel to the peer dropped), so the request is left unsent rather than run for nobody, or run twice after a
    /// retry elsewhere.
    /// </summary>
    /// <remarks>Called on a channel's write loop: implementations must be quick and must not block.</remarks>
    bool IsAwaited(string nodeId, Envelope.Req req) => true;

    /// <summary>
    /// <paramref name="peer"/> said goodbye on its channel (docs/protocol.md 7.4): nothing new should go to it, and this
    /// node's requests to it will not be answered (fail them before returning: the channel then wakes the senders that
    /// wait for room, so that a request never sent goes elsewhere). Completes once this node has answered (or dropped) every request it
    /// received from it; the channel then ends, or when <paramref name="cancellationToken"/> fires (the goodbye grace).
    /// </summary>
    Task OnPeerLeavingAsync(IPeer peer, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The channel to <paramref name="peer"/> is gone; outstanding requests to it fail now, not at their timeout.</summary>
    void OnPeerDisconnected(IPeer peer, Exception? reason);
}
