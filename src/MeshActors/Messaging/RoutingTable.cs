using MeshActors.Actors;
using MeshActors.Peers;

namespace MeshActors.Messaging;

/// <summary>An immutable snapshot of where messages go: who listens to each topic, who provides each service, which peers are connected.</summary>
/// <remarks>
/// Built by the <see cref="TopicRouterActor"/> on every change and read without locks by publishers, requesters and
/// the channels' read loops, so that the hot paths never go through a mailbox. Never mutated once published.
/// </remarks>
internal sealed class RoutingTable(
    Dictionary<string, TopicRoute> topics,
    Dictionary<string, ServiceRoute> services,
    Dictionary<string, IPeer> peers)
{
    public static RoutingTable Empty { get; } = new([], [], []);

    /// <summary>Where a message on <paramref name="topic"/> goes; null when nobody, here or elsewhere, listens.</summary>
    public TopicRoute? Topic(string topic) => topics.GetValueOrDefault(topic);

    /// <summary>Who provides <paramref name="service"/>; null when nobody does.</summary>
    public ServiceRoute? Service(string service) => services.GetValueOrDefault(service);

    /// <summary>The connected peer whose node id, or else name, is <paramref name="node"/>.</summary>
    public IPeer? Peer(string node)
    {
        if (peers.TryGetValue(node, out var byId))
            return byId;
        foreach (var peer in peers.Values)
        {
            if (peer.Name == node)
                return peer;
        }

        return null;
    }

    /// <summary>Every connected peer.</summary>
    public IEnumerable<IPeer> Peers => peers.Values;
}

/// <summary>Where a message on one topic goes: this node's subscribers, and one candidate group per node name.</summary>
/// <param name="LocalSubscribers">This node's subscribers; empty when it has none.</param>
/// <param name="Groups">Per node name, the nodes (this one included) with subscribers; each message goes to one node of each group.</param>
internal sealed record TopicRoute(LocalSubscriber[] LocalSubscribers, CandidateGroup[] Groups);

/// <summary>One of this node's subscribers to a topic.</summary>
/// <param name="Actor">Where its messages go.</param>
/// <param name="Backlog">For a callback subscription, what waits in its mailbox; null for an application's actor, whose mailbox is its own.</param>
/// <param name="Gate">What its messages are told through, closed when the subscription ends.</param>
internal readonly record struct LocalSubscriber(IActorRef Actor, SubscriberBacklog? Backlog, SubscriptionGate Gate);

/// <summary>Who provides one service.</summary>
/// <param name="Local">This node's <see cref="ServiceActor"/> for it; null when this node does not host it.</param>
/// <param name="Providers">Every node that hosts it, this one included.</param>
internal sealed record ServiceRoute(IActorRef? Local, CandidateGroup Providers);
