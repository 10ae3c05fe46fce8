using MeshActors.Actors;
using MeshActors.Peers;
using MeshActors.Protocol;

namespace MeshActors.Messaging;

/// <summary>The messages only the messaging layer itself sends the router.</summary>
internal sealed partial class TopicRouterActor
{
    /// <summary>Subscribes <paramref name="Subscriber"/> to <paramref name="Topic"/> for one <see cref="IMesh.Subscribe(string, IActorRef)"/> handle, <paramref name="Holder"/> (its registration id); answered with <see cref="SubscribeAck"/>.</summary>
    public sealed record HoldSubscription(string Topic, IActorRef Subscriber, long Holder);

    /// <summary>The handle <paramref name="Holder"/> was disposed: <paramref name="Subscriber"/> stays on <paramref name="Topic"/> only while something else holds it there.</summary>
    public sealed record ReleaseSubscription(string Topic, IActorRef Subscriber, long Holder);

    /// <summary>Subscribes a callback through a child actor of its own, named after <paramref name="Id"/>; answered with <see cref="SubscribeAck"/>.</summary>
    public sealed record SubscribeCallback(string Topic, long Id, Func<TopicMessage, ValueTask> Handler);

    /// <summary>Ends the callback subscription <paramref name="Id"/>.</summary>
    public sealed record CancelCallback(long Id);

    /// <summary>Makes <paramref name="ServiceActor"/> this node's provider of <paramref name="Service"/>; <paramref name="ReplyTo"/> gets <see cref="ServiceHosted"/>.</summary>
    public sealed record RegisterService(string Service, IActorRef ServiceActor, IActorRef ReplyTo);

    /// <summary>A channel to <paramref name="Peer"/> finished its handshake.</summary>
    public sealed record PeerConnected(IPeer Peer);

    /// <summary>The channel to <paramref name="Peer"/> is gone.</summary>
    public sealed record PeerDisconnected(IPeer Peer);

    /// <summary><paramref name="Peer"/> announced the topics and services it has.</summary>
    public sealed record PeerInterest(IPeer Peer, Envelope.Interest Interest);

    /// <summary>An announcement to <paramref name="Peer"/> left the router's hands: queued, or given up.</summary>
    private sealed record InterestQueued(IPeer Peer);

    /// <summary>Announces this node's interest to every peer; sent to itself once per burst of changes.</summary>
    private sealed class Announce
    {
        public static readonly Announce Instance = new();
    }
}
