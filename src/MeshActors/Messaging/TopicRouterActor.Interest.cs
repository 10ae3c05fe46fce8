using MeshActors.Actors;
using MeshActors.Peers;
using MeshActors.Protocol;

namespace MeshActors.Messaging;

/// <summary>The remote half of routing: peers' announcements in, this node's announcements out, and the routing table built from both.</summary>
internal sealed partial class TopicRouterActor
{
    private readonly Dictionary<string, RemoteNode> _nodes = new(StringComparer.Ordinal);
    private long _interestVersion;
    private bool _announcePending;
    private Envelope.Interest? _announced;

    // Peers with an announcement on its way into their queue, and whether a newer one waits for it to be queued.
    private readonly Dictionary<IPeer, bool> _announcing = new(ReferenceEqualityComparer.Instance);

    private void ReceiveInterest()
    {
        Receive<PeerConnected>(connected =>
        {
            var node = Node(connected.Peer);
            if (node is null)
                return;
            // A new channel, or one that took over from another: the peer's announcements start over on it
            // (docs/protocol.md 5.7), with versions that may be lower than the old channel's if the peer restarted.
            node.Version = 0;
            // What the other peers were told, not the set of this moment: a change since then is announced to every peer
            // soon, this one included; the set of this moment could be one that changes back before that, which the
            // announcement then skips as unchanged, leaving this peer with it.
            SendInterest(node.Peer, _announced ?? Current());
            Rebuild();
        });
        Receive<PeerDisconnected>(disconnected =>
        {
            // Forget the peer's announcements too: its next channel starts over with a fresh one (docs/protocol.md 5.7).
            if (_nodes.TryGetValue(disconnected.Peer.NodeId, out var node) && ReferenceEquals(node.Peer, disconnected.Peer) && _nodes.Remove(node.Peer.NodeId))
                Rebuild();
        });
        Receive<PeerInterest>(OnPeerInterest);
        Receive<Announce>(_ => OnAnnounce());
        Receive<InterestQueued>(queued =>
        {
            if (_announcing.Remove(queued.Peer, out var newer) && newer && _announced is { } latest
                && _nodes.TryGetValue(queued.Peer.NodeId, out var node) && ReferenceEquals(node.Peer, queued.Peer))
                SendInterest(queued.Peer, latest);
        });
    }

    private void OnPeerInterest(PeerInterest received)
    {
        // Only from a peer connected now: a retired channel's last frames are still read after the peer's link dropped,
        // and an announcement on them would route to a peer that is gone, with no disconnect left to take it back.
        if (!_nodes.TryGetValue(received.Peer.NodeId, out var node) || !ReferenceEquals(node.Peer, received.Peer))
            return;
        if (received.Interest.Version <= node.Version)
            return; // late, repeated or duplicated (two channels, reconnects): the highest version wins
        node.Version = received.Interest.Version;
        // A name listed twice would make the node two candidates of its group: twice the messages, or its share twice over.
        node.Topics = received.Interest.Topics.Distinct(StringComparer.Ordinal).ToArray();
        node.Services = received.Interest.Services.Distinct(StringComparer.Ordinal).ToArray();
        MessagingLog.PeerInterest(_log, node.Peer.NodeId, node.Peer.Name, node.Version, node.Topics.Count, node.Services.Count);
        Rebuild();
    }

    private RemoteNode? Node(IPeer peer)
    {
        if (peer.NodeId == _messaging.SelfId)
            return null;
        if (!_nodes.TryGetValue(peer.NodeId, out var node) || !ReferenceEquals(node.Peer, peer))
            _nodes[peer.NodeId] = node = new RemoteNode(peer);
        return node;
    }

    /// <summary>Something local changed: rebuild the table now, announce once for the whole burst.</summary>
    private void Changed()
    {
        Rebuild();
        if (_announcePending)
            return;
        _announcePending = true;
        Self.Tell(Announce.Instance, ActorRefs.NoSender);
    }

    private void OnAnnounce()
    {
        _announcePending = false;
        var current = Current();
        if (_announced is not null && current.Topics.SequenceEqual(_announced.Topics) && current.Services.SequenceEqual(_announced.Services))
            return;
        _announced = current;
        MessagingLog.Announcing(_log, current.Topics.Count, current.Services.Count, _nodes.Count);
        foreach (var node in _nodes.Values)
            SendInterest(node.Peer, current);
        _messaging.OnInterestChanged(current);
    }

    /// <summary>This node's interest now; the channel topic is local and never announced.</summary>
    private Envelope.Interest Current() => new(
        0,
        _subscribers.Keys.Where(topic => topic != IMesh.ChannelTopic).Order(StringComparer.Ordinal).ToArray(),
        _services.Keys.Order(StringComparer.Ordinal).ToArray());

    private void SendInterest(IPeer peer, Envelope.Interest interest)
    {
        if (!peer.SpeaksMeshProtocol)
            return;

        // One at a time per peer: while one waits for room in a backed-up queue, changes make one newer announcement,
        // sent once it is queued, not one waiting announcement (and topic list) each.
        if (_announcing.ContainsKey(peer))
        {
            _announcing[peer] = true;
            return;
        }

        _announcing[peer] = false;
        // Each announcement gets a higher version, over all channels, so a receiver can always tell the newest one.
        _ = SendAsync(peer, interest with { Version = ++_interestVersion }, Self, _log);

        // An announcement must not be lost to a momentarily full queue, so it waits for room, off the actor, whatever
        // the overflow policy: the policy is the application's answer for its own messages, and a lost announcement
        // would leave the peer without this node's routes until the next one.
        static async Task SendAsync(IPeer peer, Envelope.Interest interest, IActorRef router, Microsoft.Extensions.Logging.ILogger log)
        {
            try
            {
                await peer.SendWaitingAsync(interest).ConfigureAwait(false);
            }
            catch (PeerUnavailableException)
            {
                // It left: its next channel gets the announcement on connect.
            }
            catch (Exception ex)
            {
                MessagingLog.InterestNotSent(log, peer.NodeId, ex.Message);
            }
            finally
            {
                router.Tell(new InterestQueued(peer), ActorRefs.NoSender);
            }
        }
    }

    private void Rebuild()
    {
        var before = _messaging.Routes.Current;
        var local = _messaging.LocalCandidate;
        var topicGroups = new Dictionary<string, Dictionary<string, List<RouteCandidate>>>(StringComparer.Ordinal);
        var providers = new Dictionary<string, List<RouteCandidate>>(StringComparer.Ordinal);
        foreach (var topic in _subscribers.Keys)
            AddTopic(topic, _messaging.LocalTopicCandidate);
        foreach (var service in _services.Keys)
            AddService(service, local);
        foreach (var node in _nodes.Values)
        {
            foreach (var topic in node.Topics)
                AddTopic(topic, node.Candidate);
            foreach (var service in node.Services)
                AddService(service, node.Candidate);
        }

        var topics = new Dictionary<string, TopicRoute>(topicGroups.Count, StringComparer.Ordinal);
        foreach (var (topic, groups) in topicGroups)
        {
            var subscribers = _subscribers.TryGetValue(topic, out var list)
                ? list.Select(actor => new LocalSubscriber(actor, _backlogs.GetValueOrDefault(actor), _gates[(topic, actor)])).ToArray()
                : [];
            topics[topic] = new TopicRoute(subscribers, groups.Values.Select(group => Group(topic, group, before.Topic(topic)?.Groups)).ToArray());
        }

        var services = new Dictionary<string, ServiceRoute>(providers.Count, StringComparer.Ordinal);
        foreach (var (service, candidates) in providers)
            services[service] = new ServiceRoute(_services.GetValueOrDefault(service), Group(service, candidates, before.Service(service) is { } route ? [route.Providers] : null));

        var peers = _nodes.Values.ToDictionary(node => node.Peer.NodeId, node => node.Peer, StringComparer.Ordinal);
        _messaging.Routes.Publish(new RoutingTable(topics, services, peers));

        void AddTopic(string topic, RouteCandidate candidate)
        {
            if (!topicGroups.TryGetValue(topic, out var groups))
                topicGroups[topic] = groups = new Dictionary<string, List<RouteCandidate>>(StringComparer.Ordinal);
            if (!groups.TryGetValue(candidate.Name, out var group))
                groups[candidate.Name] = group = [];
            group.Add(candidate);
        }

        void AddService(string service, RouteCandidate candidate)
        {
            if (!providers.TryGetValue(service, out var candidates))
                providers[service] = candidates = [];
            candidates.Add(candidate);
        }

        // A group whose members did not change is kept, and its rotation with it: a new one would start again at a
        // random member, and any change anywhere in the mesh would make round robin random.
        static CandidateGroup Group(string address, List<RouteCandidate> candidates, CandidateGroup[]? before)
        {
            var ordered = candidates.OrderBy(candidate => candidate.NodeId, StringComparer.Ordinal).ToArray();
            return before?.FirstOrDefault(group => group.HasMembers(ordered)) ?? new(address, ordered);
        }
    }

    /// <summary>A connected peer and its latest announcement.</summary>
    private sealed class RemoteNode(IPeer peer)
    {
        public IPeer Peer { get; } = peer;

        public RouteCandidate Candidate { get; } = new(peer.NodeId, peer.Name, peer);

        public long Version { get; set; }

        public IReadOnlyList<string> Topics { get; set; } = [];

        public IReadOnlyList<string> Services { get; set; } = [];
    }
}
