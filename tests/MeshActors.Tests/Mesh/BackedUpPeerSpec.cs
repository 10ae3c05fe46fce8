using System.Diagnostics;
using System.Net;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Tests.Peers;
using Xunit.Abstractions;

namespace MeshActors.Tests.Mesh;

using MeshActors.TestKit;

/// <summary>
/// What a node sends a peer whose queue is backed up (it stopped reading): a hand-driven peer over loopback HTTP/2 reads
/// what the real node wrote once it reads again.
/// </summary>
public sealed class BackedUpPeerSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    /// <summary>
    /// docs/protocol.md 5.3: <c>timeout_ms</c> says "how long the requester waits". A request that waited for room in a backed-up queue has less time left when it is written than when it was
    /// made. Its provider must hear what remains: told the whole timeout, it works on, and answers with its own err
    /// timeout, after its requester has given up.
    /// </summary>
    [Fact]
    public async Task A_request_that_waited_for_room_must_tell_its_provider_only_the_time_its_caller_still_waits()
    {
        var node = await Start("client", peers: new PeerOptions { LivenessTimeout = TimeSpan.FromMinutes(1) }); // the provider reads nothing for a while
        var providerId = "hand-" + Guid.NewGuid().ToString("N");
        await using var provider = await HandDrivenChannel.DialAsync(new DnsEndPoint(node.Self.Host, node.Self.Port));
        await provider.HandshakeAsync(providerId);
        await provider.WriteAsync(new Envelope.Interest(1, ["stuck"], ["work"]));
        await AwaitConditionAsync(() => node.MessagingLayer.Routes.Current.Service("work") is not null, TestTimeouts.Default, message: "the client to see the provider");
        await QueueBackup.PublishUntilStalledAsync(node, providerId, "stuck");

        var timeout = TestTimeouts.Long;
        var made = Stopwatch.GetTimestamp();
        var call = node.RequestAsync<int, int>("work", 1, new RequestOptions { Timeout = timeout });
        await AwaitConditionAsync(() => node.DescribePeers().Single(peer => peer.NodeId == providerId).WaitingSenders > 0, TestTimeouts.Default, message: "the request to wait for room");
        // Long enough a wait to tell apart in whole milliseconds on the wire.
        await AwaitConditionAsync(() => Stopwatch.GetElapsedTime(made) > TimeSpan.FromMilliseconds(300), TestTimeouts.Default);
        var waited = Stopwatch.GetElapsedTime(made);

        var req = await provider.NextAsync<Envelope.Req>().WaitAsync(TestTimeouts.Long);
        // The call's timeout counts from when it found its provider, a moment after it was made: 100 ms of slack.
        Assert.True(req.Timeout <= timeout - waited + TimeSpan.FromMilliseconds(100),
            $"the request waited {waited.TotalMilliseconds:0} ms for room out of its {timeout.TotalMilliseconds:0}, and told its provider it waits {req.Timeout?.TotalMilliseconds} ms");
        await provider.WriteAsync(new Envelope.Res(req.Id, "2"u8.ToArray()));
        Assert.Equal(2, await call.WithTimeout());
    }

    /// <summary>
    /// Announcements wait for room whatever the overflow policy (a lost one would leave the peer without this node's
    /// routes). Each change of a node's topics while a peer's queue is backed up must not add one more waiting
    /// announcement, holding a topic list each, for as long as the peer does not read: only the newest matters
    /// (docs/protocol.md 5.7, the highest version wins).
    /// </summary>
    [Fact]
    public async Task Announcements_to_a_backed_up_peer_must_not_pile_up_one_per_change()
    {
        var node = await Start("node", peers: new PeerOptions { LivenessTimeout = TimeSpan.FromMinutes(1) });
        var peerId = "hand-" + Guid.NewGuid().ToString("N");
        await using var peer = await HandDrivenChannel.DialAsync(new DnsEndPoint(node.Self.Host, node.Self.Port));
        await peer.HandshakeAsync(peerId);
        await peer.WriteAsync(new Envelope.Interest(1, ["stuck"], []));
        await AwaitConditionAsync(() => node.MessagingLayer.Routes.Current.Topic("stuck") is not null, TestTimeouts.Default, message: "the node to see the peer");
        await QueueBackup.PublishUntilStalledAsync(node, peerId, "stuck");

        var subscriptions = new List<IDisposable>();
        for (var i = 0; i < 50; i++)
        {
            var subscription = node.Subscribe<int>($"topic-{i}", (_, _) => default);
            await subscription.Ready;
            subscriptions.Add(subscription);
        }

        await AwaitConditionAsync(() => node.MessagingLayer.Routes.Current.Topic("topic-49") is not null, TestTimeouts.Default);
        var waiting = node.DescribePeers().Single(p => p.NodeId == peerId).WaitingSenders;
        Assert.True(waiting <= 1, $"{waiting} announcements wait for room after 50 changes");

        // Once the peer reads again, the newest announcement reaches it: every topic.
        Envelope.Interest last;
        do
            last = await peer.NextAsync<Envelope.Interest>().WaitAsync(TestTimeouts.Long);
        while (last.Topics.Count < 50);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"topic-{i}").Order(StringComparer.Ordinal), last.Topics);
        subscriptions.ForEach(subscription => subscription.Dispose());
    }
}
