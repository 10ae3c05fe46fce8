using System.Text;
using System.Collections.Concurrent;
using System.Net;
using MeshActors.Actors;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Tests.Peers;
using Xunit.Abstractions;

namespace MeshActors.Tests.Mesh;

using MeshActors.TestKit;

/// <summary>
/// docs/protocol.md read as a third-party implementer reads it, checked against a real node through a hand-driven v1
/// channel over loopback HTTP/2: 5.3 "The provider answers each req exactly once, on the same channel, with a res or
/// an err carrying the same id".
/// </summary>
public sealed class OwedAnswersSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    /// <summary>
    /// A peer announces the smallest frame limit the protocol allows (5.1: <c>max_frame</c> 65536). A handler that fails
    /// with a long message makes an <c>err handler_error</c> whose <c>msg</c> does not fit in one of the peer's frames.
    /// It may not be sent as is (3.1), but as a <c>res</c> that is too large becomes <c>err frame_too_large</c>, it must
    /// still answer the request, or the requester waits out its whole timeout, if it has one (docs/messaging.md, Errors:
    /// "the request, or its answer, is above the receiving node's frame limit: frame_too_large at once").
    /// </summary>
    [Fact]
    public async Task A_failed_request_whose_error_message_exceeds_the_peers_frame_limit_must_still_be_answered()
    {
        var node = await Start("provider");
        await node.AddService<int, int>("fails", (_, _, _) => throw new InvalidOperationException(new string('x', 70_000))).Ready;
        await using var peer = await HandDrivenChannel.DialAsync(new DnsEndPoint(node.Self.Host, node.Self.Port));
        Assert.IsType<Envelope.Hello>(await peer.ReadAsync());
        await peer.WriteAsync(new Envelope.Hello("hand-" + Guid.NewGuid().ToString("N"), "hand", [WireProtocol.BinaryCapability], ProtocolOptions.SmallestMaxFrameSize));
        var answers = new ConcurrentQueue<Envelope>();
        using var stop = new CancellationTokenSource();
        var reading = CollectAsync(peer, answers, stop.Token);

        await peer.WriteAsync(new Envelope.Req(1, "fails", "1"u8.ToArray()));
        await AwaitConditionAsync(() => node.Stats.HandlerFailures == 1, TestTimeouts.Default, message: "the handler to fail");

        await AwaitConditionAsync(
            () => answers.Any(answer => answer is Envelope.Err { Id: 1 } or Envelope.Res { Id: 1 }),
            TestTimeouts.Default,
            message: "request 1 (its handler failed with a 70,000-character message) was never answered: the err was dropped as too large for the peer");
        await stop.CancelAsync();
        await reading;
    }

    /// <summary>
    /// An actor's <c>Publish</c> never waits: it fills a slow peer's queue up to its cap (docs/messaging.md, "A peer's
    /// queue is full"). The answers the node owes that peer's requests and makes on its own (<c>no_service</c>, the
    /// <c>$ping</c> <c>res</c>, <c>err timeout</c>, <c>unavailable</c>) go through <c>TrySend</c>, which the full queue
    /// refuses: the answer is lost for good, though the peer reads everything queued before it and asks again after. A
    /// unary call's owed answers are queued beyond the cap (<c>EnqueueOwed</c>); a channel's are not.
    /// </summary>
    [Fact]
    public async Task A_request_for_a_service_the_node_does_not_host_must_get_no_service_when_the_peers_queue_is_full()
    {
        var (node, peer, peerId) = await StartWithFullQueueAsync(PeerOverflowPolicy.Wait);
        var noServiceBefore = node.Stats.NoServiceAnswers;
        await peer.WriteAsync(new Envelope.Req(1, "nope", "null"u8.ToArray()));
        await AwaitConditionAsync(() => node.Stats.NoServiceAnswers == noServiceBefore + 1, TestTimeouts.Default, message: "the node to answer no_service");

        var answer = await AnswerOnceDrainedAsync(node, peer, peerId, id: 1);
        Assert.Equal(ErrorCodes.NoService, Assert.IsType<Envelope.Err>(answer).Code);
    }

    /// <summary>
    /// A handler's answer is owed as much: under the <c>Fail</c> overflow policy (the application's choice for its own
    /// sends) it waits for room all the same, rather than be dropped at the cap with its requester left waiting.
    /// </summary>
    [Fact]
    public async Task A_handlers_answer_must_reach_a_peer_whose_queue_is_full_under_the_fail_policy_too()
    {
        var (node, peer, peerId) = await StartWithFullQueueAsync(PeerOverflowPolicy.Fail);
        var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await node.AddService<int, int>("work", (_, _, _) =>
        {
            ran.TrySetResult();
            return ValueTask.FromResult(42);
        }).Ready;
        await peer.WriteAsync(new Envelope.Req(1, "work", "41"u8.ToArray()));
        await ran.Task.WithTimeout();

        var answer = await AnswerOnceDrainedAsync(node, peer, peerId, id: 1);
        Assert.Equal("42", Encoding.UTF8.GetString(Assert.IsType<Envelope.Res>(answer).Data.Span));
    }

    // A provider whose queue to a hand-driven peer that reads nothing is full: the channel stalls on flow control and
    // the queue fills with 65-byte pubs (64 + "1") until one is refused, leaving less room than any answer needs.
    private async Task<(MeshNode Node, HandDrivenChannel Peer, string PeerId)> StartWithFullQueueAsync(PeerOverflowPolicy policy)
    {
        const long cap = 64 * 1024;
        var node = await Start("provider", peers: new PeerOptions
        {
            OutboundQueueCapBytes = cap,
            BackpressureBytes = cap,
            OverflowPolicy = policy,
            LivenessTimeout = TimeSpan.FromMinutes(1), // the hand-driven peer is silent while the queue fills
        });
        var peerId = "hand-" + Guid.NewGuid().ToString("N");
        var peer = await HandDrivenChannel.DialAsync(new DnsEndPoint(node.Self.Host, node.Self.Port));
        await peer.HandshakeAsync(peerId);
        await peer.WriteAsync(new Envelope.Interest(1, ["t"], []));
        await AwaitConditionAsync(() => node.MessagingLayer.Routes.Current.Topic("t") is not null, TestTimeouts.Default, message: "the node to route topic t to the peer");

        PeerInfo Queue() => node.DescribePeers().Single(p => p.NodeId == peerId);
        var probe = CreateTestProbe();
        var sentBefore = -1L;
        for (var round = 0; round < 1000 && !(Queue().QueuedBytes > cap - 64 && Queue().Stats.BytesSent == sentBefore); round++)
        {
            sentBefore = Queue().Stats.BytesSent;
            for (var i = 0; i < 20_000; i++)
                node.TopicRouter.Tell(new Publish("t", 1), ActorRefs.NoSender);
            // Answered once the router has routed every publish told before it.
            await node.TopicRouter.Ask<UnsubscribeAck>(new Unsubscribe("unrelated", probe.Ref), TestTimeouts.Default);
        }

        Assert.True(Queue().QueuedBytes > cap - 64, $"the queue holds {Queue().QueuedBytes} of its {cap} bytes");
        return (node, peer, peerId);
    }

    // The peer reads again: what was queued comes out, then a $ping asked once the queue is empty marks the end.
    private async Task<Envelope> AnswerOnceDrainedAsync(MeshNode node, HandDrivenChannel peer, string peerId, long id)
    {
        await using var _ = peer;
        PeerInfo Queue() => node.DescribePeers().Single(p => p.NodeId == peerId);
        var received = new ConcurrentQueue<Envelope>();
        using var stop = new CancellationTokenSource();
        var reading = CollectAsync(peer, received, stop.Token);
        await AwaitConditionAsync(() => Queue().QueuedBytes == 0, TestTimeouts.Default, message: "the queue to drain");
        await peer.WriteAsync(new Envelope.Req(id + 1, "$ping", "null"u8.ToArray()));
        await AwaitConditionAsync(() => received.Any(e => e is Envelope.Res { Id: var pong } && pong == id + 1), TestTimeouts.Default, message: "the $ping to be answered");
        await stop.CancelAsync();
        await reading;

        var answer = received.FirstOrDefault(e => e is Envelope.Err { Id: var err } && err == id || e is Envelope.Res { Id: var res } && res == id);
        Assert.True(answer is not null, $"request {id} was never answered ({Queue().Stats.Dropped} drops); later requests were");
        return answer;
    }

    /// <summary>
    /// 5.3: a requester's ids are unique among its unanswered requests, and answers are matched by id alone. A peer that
    /// breaks this (a req reusing the id of one still running: for the same service, a <c>$ping</c>, a service the node
    /// does not host) is refused with an <c>err bad_envelope</c> without id: answered with the reused id, the req would
    /// pass for the answer to the first request, whose handler goes on and whose <c>res</c> would come as a second answer
    /// under the same id. As docs/protocol.md 10 says of unary calls: "rejected with bad_envelope (without id; the first
    /// one is still answered)".
    /// </summary>
    [Theory]
    [InlineData("slow", "2")]
    [InlineData("$ping", "null")]
    [InlineData("nope", "null")]
    public async Task A_req_reusing_the_id_of_a_request_in_flight_must_be_refused_without_that_id_on_a_channel(string service, string data)
    {
        var node = await Start("provider");
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        await node.AddService<int, int>("slow", async (n, _, _) =>
        {
            started.TrySetResult();
            return n + await gate.Task;
        }).Ready;
        await using var peer = await HandDrivenChannel.DialAsync(new DnsEndPoint(node.Self.Host, node.Self.Port));
        await peer.HandshakeAsync("hand-" + Guid.NewGuid().ToString("N"));
        var received = new ConcurrentQueue<Envelope>();
        using var stop = new CancellationTokenSource();
        var reading = CollectAsync(peer, received, stop.Token);

        await peer.WriteAsync(new Envelope.Req(7, "slow", "1"u8.ToArray()));
        await started.Task.WithTimeout();
        await peer.WriteAsync(new Envelope.Req(7, service, Encoding.UTF8.GetBytes(data)));
        // $ping is answered on the read loop, as the refusal is: once its res is in, so is anything said about the reused id.
        await peer.WriteAsync(new Envelope.Req(8, "$ping", "null"u8.ToArray()));
        await AwaitConditionAsync(() => received.Any(e => e is Envelope.Res { Id: 8 }), TestTimeouts.Default, message: "the $ping to be answered");
        gate.SetResult(40);
        await AwaitConditionAsync(() => received.Any(e => e is Envelope.Res { Id: 7 } && UnaryClient.Describe(e) == "res 7 41"), TestTimeouts.Default, message: "request 7 to be answered by its handler");
        await stop.CancelAsync();
        await reading;

        var answersTo7 = received.Where(e => e is Envelope.Res { Id: 7 } or Envelope.Err { Id: 7 }).Select(UnaryClient.Describe).ToList();
        Assert.True(answersTo7.SequenceEqual(["res 7 41"]),
            $"request 7 got {answersTo7.Count} answers under its id, in this order: {string.Join(" | ", answersTo7)}");
        Assert.Contains(received, e => e is Envelope.Err { Id: null, Code: ErrorCodes.BadEnvelope });
    }

    // Reads envelopes into received until stopped or the node ends its side.
    private static async Task CollectAsync(HandDrivenChannel peer, ConcurrentQueue<Envelope> received, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (await peer.ReadAsync().WaitAsync(stop) is not { } envelope)
                    return;
                if (envelope is Envelope.Ping ping)
                    await peer.WriteAsync(new Envelope.Pong(ping.Value));
                else
                    received.Enqueue(envelope);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (TimeoutException)
        {
            // Nothing came for the read's whole timeout: the conditions above report what was missing.
        }
    }
}
