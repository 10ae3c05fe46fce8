using System.Collections.Concurrent;
using MeshActors.Actors;
using MeshActors.Peers;
using MeshActors.Protocol;

namespace MeshActors.Messaging;

/// <summary>
/// What the peer layer hands over, on each channel's read loop: routed without waiting, so the loop never blocks; a
/// callback subscriber that is too far behind makes the loop pause before its next read instead.
/// </summary>
internal sealed partial class MeshMessaging : IPeerEnvelopeHandler
{
    // The connected peers by id, as the peer layer reports them: the routing table hears of a peer through the router
    // actor a moment later, and a handler answering a message's sender must not lose that race.
    private readonly ConcurrentDictionary<string, IPeer> _connected = new(StringComparer.Ordinal);

    /// <summary>The connected node with this id or name: from the routes, or from the peer layer's report when the routes do not know it yet.</summary>
    public IPeer? ConnectedPeer(string node) =>
        Routes.Current.Peer(node) ?? _connected.GetValueOrDefault(node) ?? _connected.Values.FirstOrDefault(peer => peer.Name == node);

    public void OnPeerConnected(IPeer peer)
    {
        _connected[peer.NodeId] = peer;
        TopicRouter.Tell(new TopicRouterActor.PeerConnected(peer), ActorRefs.NoSender);
    }

    public ValueTask OnEnvelope(IPeer peer, Envelope envelope)
    {
        switch (envelope)
        {
            case Envelope.Pub pub:
                return DeliverLocally(pub.Topic, pub.Data, pub.Attachment, pub.Trace, peer);
            case Envelope.Req req:
                OnRequest(peer, req);
                break;
            case Envelope.Res res:
                Correlator.Complete(peer.NodeId, res.Id, res);
                break;
            case Envelope.Err { Id: { } id } err:
                Correlator.Complete(peer.NodeId, id, err);
                break;
            case Envelope.Err err:
                MessagingLog.PeerError(Log, peer.NodeId, err.Code, err.Message);
                break;
            case Envelope.Cancel cancel:
                Inbound.Cancel(peer, cancel.Id);
                break;
            case Envelope.Interest interest:
                TopicRouter.Tell(new TopicRouterActor.PeerInterest(peer, interest), ActorRefs.NoSender);
                break;
            case Envelope.Raw raw:
                return DeliverLocally(IMesh.ChannelTopic, raw.Json, default, trace: null, peer);
        }

        return default;
    }

    // The answers of one read go to their callers together (AnswerBatch).
    public void OnReadStarting() => AnswerBatch.Gather();

    public void OnReadEnded() => AnswerBatch.Dispatch();

    public bool IsAwaited(string nodeId, Envelope.Req req) => Correlator.IsAwaited(nodeId, req.Id);

    public Task OnPeerLeavingAsync(IPeer peer, CancellationToken cancellationToken)
    {
        // Its routes go now, so that nothing new is sent to it; its answers to this node will not come.
        TopicRouter.Tell(new TopicRouterActor.PeerDisconnected(peer), ActorRefs.NoSender);
        Correlator.FailAll(peer.NodeId, new PeerClosedException("the peer said goodbye"));
        return Inbound.WhenAnsweredAsync(peer, cancellationToken);
    }

    public void OnPeerDisconnected(IPeer peer, Exception? reason)
    {
        _connected.TryRemove(new KeyValuePair<string, IPeer>(peer.NodeId, peer));
        Correlator.FailAll(peer.NodeId, reason);
        Inbound.CancelAll(peer);
        TopicRouter.Tell(new TopicRouterActor.PeerDisconnected(peer), ActorRefs.NoSender);
    }

    private void OnRequest(IPeer peer, Envelope.Req req)
    {
        if (Inbound.Contains(peer, req.Id))
        {
            RefuseDuplicate(peer, req);
            return;
        }

        if (req.Service == PingService)
        {
            // Answered here, on the read loop: a ping measures the channels and the two nodes, not a handler.
            peer.TrySendOwed(new Envelope.Res(req.Id, Payload.Null));
            return;
        }

        if (Routes.Current.Service(req.Service)?.Local is not { } service)
        {
            Stats.OnNoServiceAnswer();
            MessagingLog.NoService(Log, peer.NodeId, req.Service);
            peer.TrySendOwed(new Envelope.Err(ErrorCodes.NoService, $"Node {SelfId} ({SelfName}) does not host service '{req.Service}'.") { Id = req.Id });
            return;
        }

        if (Inbound.IsDraining)
        {
            // Leaving (docs/protocol.md 7.4): the requester takes it to another provider at once, idempotent or not.
            peer.TrySendOwed(new Envelope.Err(ErrorCodes.Unavailable, $"Node {SelfId} ({SelfName}) is leaving the mesh.") { Id = req.Id });
            return;
        }

        var request = new InboundRequest(peer, peer.NodeId, peer.Name, req);
        if (!Inbound.TryAdd(request))
        {
            RefuseDuplicate(peer, req);
            return;
        }

        service.Tell(request, ActorRefs.NoSender);
    }

    // A req reusing the id of one in flight, refused before any answer that would carry the id (a $ping's, no_service):
    // without the id, as on a unary call (docs/protocol.md 10), or the complaint would pass for the answer of the
    // request still in flight, which is answered all the same.
    private void RefuseDuplicate(IPeer peer, Envelope.Req req)
    {
        MessagingLog.DuplicateRequestId(Log, peer.NodeId, req.Id);
        peer.TrySendOwed(new Envelope.Err(ErrorCodes.BadEnvelope, $"Request {req.Id} is already in flight."));
    }
}
