using System.Net;
using MeshActors.Actors;
using MeshActors.Messaging;
using MeshActors.Protocol;
using MeshActors.Tests.Mesh;
using MeshActors.Tests.Peers;
using Xunit.Abstractions;

namespace MeshActors.Tests.Messaging;

using MeshActors.TestKit;

/// <summary>Topic routing while subscriptions and peers come and go, between real nodes over real HTTP/2 on loopback.</summary>
public sealed class TopicGroupChurnSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    [Fact]
    public async Task A_peer_that_connects_between_an_unsubscribe_and_a_resubscribe_must_end_up_routing_the_topic_to_the_subscriber()
    {
        var (a, b) = await StartConnected("a", "b");
        var subscriber = CreateTestProbe();
        a.TopicRouter.Tell(new Subscribe("prices", subscriber.Ref), TestActor);
        ExpectMsg<SubscribeAck>();
        await b.WaitForSubscriberAsync("prices", TestTimeouts.Default);

        // The peer layer tells the messaging layer of a (re)connection at any moment: a reconnect, a new node, a channel
        // that takes over from another (PeerManagerActor.Attach). Here it comes while a's subscriber briefly lets go of
        // the topic and takes it again: the three reach a's router one after the other, before its announcement of the
        // unsubscribe has gone out. The messages are told from a's router thread itself (its InterestChanged event), so
        // that they are queued together; the peer and link are the real ones.
        var link = a.MessagingLayer.ConnectedPeer(b.Id)!;
        var fired = 0;
        a.MessagingLayer.InterestChanged += (topics, _) =>
        {
            if (topics.Contains("trigger") && Interlocked.Exchange(ref fired, 1) == 0)
            {
                a.TopicRouter.Tell(new Unsubscribe("prices", subscriber.Ref), ActorRefs.NoSender);
                a.MessagingLayer.OnPeerConnected(link);
                a.TopicRouter.Tell(new Subscribe("prices", subscriber.Ref), ActorRefs.NoSender);
            }
        };
        await a.Subscribe("trigger", CreateTestProbe().Ref).Ready;
        await AwaitConditionAsync(() => Volatile.Read(ref fired) == 1, TestTimeouts.Default, message: "a's announcement of trigger");

        // Barrier: a's router has handled everything queued above (two asks: the announcement it queued to itself may come
        // after the first), so any announcement it sends b is in a's queue to b before the raw message that follows; b's
        // read loop hands it to b's router before the raw message to b's subscriber, and b's router answers the ask after it.
        await a.TopicRouter.Ask<UnsubscribeAck>(new Unsubscribe("nothing", subscriber.Ref));
        await a.TopicRouter.Ask<UnsubscribeAck>(new Unsubscribe("nothing", subscriber.Ref));
        var channel = CreateTestProbe();
        await b.Subscribe(IMesh.ChannelTopic, channel.Ref).Ready;
        await a.SendAsync(b.Id, new { barrier = 1 });
        channel.ExpectMsg<TopicMessage>();
        await b.TopicRouter.Ask<UnsubscribeAck>(new Unsubscribe("nothing", channel.Ref));

        // a's subscriber is on "prices" (it let go and took it again); b must know, or it never sends it anything.
        Assert.True(
            b.HasSubscribers("prices"),
            "b no longer routes 'prices' to a, whose subscriber is there: a told the reconnected peer its interest of the moment (without 'prices') and then skipped its announcement, which matched the last one it had made");
        await b.PublishAsync("prices", 42);
        Assert.Equal(42, subscriber.ExpectMsg<TopicMessage>().Deserialize<int>());
    }

    [Fact]
    public async Task A_peer_whose_interest_lists_a_topic_twice_must_get_each_broadcast_message_once()
    {
        var publisher = await Start("publisher", messaging: new MessagingOptions { TopicGroupBalancer = LoadBalancers.Broadcast });

        // A peer in another language whose announcement names a topic twice (it appended it for each of its two
        // subscribers, say): the protocol asks for the topics it has subscribers for, and it has them.
        await using var peer = await RawPeer.OpenAsync(new DnsEndPoint(publisher.Self.Host, publisher.Self.Port));
        await peer.HandshakeAsync(Guid.NewGuid().ToString(), "workers");
        await peer.WriteAsync(new Envelope.Interest(1, ["jobs", "jobs", "end"], []));
        await AwaitConditionAsync(() => publisher.HasSubscribers("end"), TestTimeouts.Default, message: "the publisher routing to the peer");

        await publisher.PublishAsync("jobs", 1);
        await publisher.PublishAsync("end", 0);

        var jobs = 0;
        while (await peer.ReadAsync().WithTimeout() is { } envelope)
        {
            if (envelope is Envelope.Pub { Topic: "end" })
                break;
            if (envelope is Envelope.Pub { Topic: "jobs" })
                jobs++;
        }

        // At most once: one node, one message, however its announcement spelled its topics.
        Assert.Equal(1, jobs);
    }
}
