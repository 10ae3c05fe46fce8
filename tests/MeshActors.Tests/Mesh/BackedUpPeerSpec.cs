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
/// docs/protocol.md 5.3: <c>timeout_ms</c> says "how long the requester waits". A hand-driven provider over loopback
/// HTTP/2 reads what a real node writes.
/// </summary>
public sealed class RequestDeadlineOnTheWireSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    /// <summary>
    /// A request that waited for room in a backed-up queue has less time left when it is written than when it was
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
        Assert.True(req.Timeout <= timeout - waited + TimeSpan.FromMilliseconds(1),
            $"the request waited {waited.TotalMilliseconds:0} ms for room out of its {timeout.TotalMilliseconds:0}, and told its provider it waits {req.Timeout?.TotalMilliseconds} ms");
        await provider.WriteAsync(new Envelope.Res(req.Id, "2"u8.ToArray()));
        Assert.Equal(2, await call.WithTimeout());
    }
}
