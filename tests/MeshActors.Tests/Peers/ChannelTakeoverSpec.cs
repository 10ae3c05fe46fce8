using System.Net;
using System.Text;
using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Tests.Transport;
using MeshActors.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Peers;

using MeshActors.TestKit;

/// <summary>
/// A second channel dialed by a peer that already has one (docs/protocol.md 7.4): a duplicate by a node that did not
/// restart, and a takeover by one that did; what becomes of the requests and answers in flight.
/// </summary>
[Collection(nameof(PeersCollection))]
public sealed class ChannelTakeoverSpec(ITestOutputHelper output) : TestKit(output), IAsyncLifetime
{
    private const int DuplicateChannelEvent = 4004;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "meshactors-takeover-" + Guid.NewGuid().ToString("N"));

    private ITestOutputHelper Log => Output!;

    public Task InitializeAsync() => Task.CompletedTask;

    Task IAsyncLifetime.DisposeAsync()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    // docs/protocol.md 7.4 and docs/architecture.md (Who dials): two channels dialed by the same node, "a member and an
    // explicit target at the same address", are duplicates; "a duplicate one does not fail the requests in flight: both
    // nodes go on as one link, and the answers to requests sent on the retired channel come on the kept one". The client
    // has not restarted (it still waits for its request), yet the provider takes its second channel for a restart and
    // cancels the request: the client hears nothing until its timeout.
    [Fact]
    public async Task A_request_in_flight_must_be_answered_when_its_caller_also_dials_the_provider_explicitly()
    {
        // Fixed ids: the client has the smaller one, so it dials the provider as a member (the provider only waits).
        var providerLog = new TestLog(Log);
        await using var provider = await StartNodeAsync("provider", "ffffffff-0000-4000-8000-0000000000a1", providerLog);
        await using var client = await StartNodeAsync("client", "00000000-0000-4000-8000-0000000000b1", new TestLog(Log));
        await AwaitConditionAsync(() => Connected(client, provider) && Connected(provider, client), TestTimeouts.Default, message: "the two nodes connected");

        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = false;
        await provider.AddService<int, int>("slow", async (x, _, cancellationToken) =>
        {
            using var registration = cancellationToken.Register(() => cancelled = true);
            started.TrySetResult();
            await gate.Task;
            return x;
        }).Ready;
        await AwaitConditionAsync(() => client.MessagingLayer.Routes.Current.Service("slow") is not null, TestTimeouts.Default, message: "the client to see 'slow'");
        try
        {
            var call = client.RequestAsync<int, int>("slow", 7, new RequestOptions { Timeout = TimeSpan.FromMinutes(2) });
            await started.Task.WithTimeout();

            // The client also dials the provider's address explicitly (ConnectPeer): a second channel, dialed by the
            // same node, newer, so it is kept and the first retired as a duplicate (both ends agree).
            var duplicatesBefore = providerLog.Count(DuplicateChannelEvent);
            client.Peers.Tell(new PeerManagerActor.ConnectPeer(provider.Self.Host, provider.Self.Port), ActorRefs.NoSender);
            await AwaitConditionAsync(
                () => providerLog.Count(DuplicateChannelEvent) > duplicatesBefore, TestTimeouts.Default, message: "the provider to see the second channel");
            await provider.Peers.Ask<object>(PeerManagerActor.GetPeers.Instance, TestTimeouts.Default); // its decision is carried out

            gate.TrySetResult();
            var outcome = await Record.ExceptionAsync(async () => Assert.Equal(7, await call.WaitAsync(TestTimeouts.Default)));
            Assert.True(
                outcome is null,
                $"the request was not answered {TestTimeouts.Default.TotalSeconds:0} s after its handler returned (handler token cancelled: {cancelled}; {outcome?.GetType().Name}: {outcome?.Message})");
        }
        finally
        {
            gate.TrySetResult();
        }
    }

    // docs/protocol.md 7.4: a peer that comes back on a new channel has started afresh, and this node "takes request ids on
    // the new channel afresh"; 5.3: a request is answered on the channel it came on. An answer to the old incarnation's
    // request 1 that was still waiting for room in the peer's queue when the new channel took over must not reach the
    // new incarnation, whose own request 1 would get it (or be refused as a duplicate of a request "in flight").
    [Fact]
    public async Task A_restarted_peers_request_must_get_its_own_answer_not_one_queued_for_its_old_channel()
    {
        await using var node = await StartNodeAsync("node", null, new TestLog(Log));
        var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await node.AddService<int, int>("echo", (x, _, _) =>
        {
            if (x == 2)
                answered.TrySetResult();
            return new ValueTask<int>(x);
        }).Ready;
        var address = new DnsEndPoint(node.Self.Host, node.Self.Port);

        // The peer's first incarnation subscribes to a topic, then stops reading (a process about to crash): the node's
        // queue to it fills until senders wait for room.
        await using var old = await HandDrivenChannel.DialAsync(address, sessionId: null);
        await old.HandshakeAsync("restarting-node", incarnation: "first-run");
        await old.WriteAsync(new Envelope.Interest(1, ["fill"], []));
        await AwaitConditionAsync(() => node.MessagingLayer.Routes.Current.Topic("fill") is not null, TestTimeouts.Default, message: "the node to see the subscriber");
        using (var stopPublishing = new CancellationTokenSource())
        {
            var payload = new byte[64 * 1024];
            var publishing = Task.Run(async () =>
            {
                while (true)
                    await node.PublishAsync("fill", payload, stopPublishing.Token);
            });
            long queued = -1;
            await AwaitConditionAsync(
                () =>
                {
                    var now = node.DescribePeers().Single(peer => peer.NodeId == "restarting-node").QueuedBytes;
                    var stalled = now == queued && now >= new PeerOptions().BackpressureBytes;
                    queued = now;
                    return stalled;
                },
                TestTimeouts.Long,
                interval: TimeSpan.FromMilliseconds(250),
                message: "the node's queue to the peer to back up and stall");
            await stopPublishing.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => publishing.WithTimeout());
        }

        // Its request 1 runs at once; the answer waits for room behind the backlog. (The service actor runs one request
        // at a time: once request 2 runs, request 1's answer has been handed to the queue.)
        await old.WriteAsync(new Envelope.Req(1, "echo", "1"u8.ToArray()));
        await old.WriteAsync(new Envelope.Req(2, "echo", "2"u8.ToArray()));
        await answered.Task.WithTimeout();

        // The peer restarts with its node id and dials again: the new channel takes over, and its counter starts again.
        await using var restarted = await HandDrivenChannel.DialAsync(address, sessionId: "0");
        await restarted.HandshakeAsync("restarting-node", incarnation: "second-run"); // its hello says it is another run
        await restarted.WriteAsync(new Envelope.Req(1, "echo", "42"u8.ToArray()));

        var answer = await restarted.NextAnswerAsync(1);
        Assert.True(
            answer is Envelope.Res { } res && Encoding.UTF8.GetString(res.Data.Span) == "42",
            $"the new channel's request 1 (echo 42) was answered {Describe(answer)}");
    }

    private static string Describe(Envelope answer) => answer switch
    {
        Envelope.Err err => $"err {err.Code}: {err.Message}",
        Envelope.Res res => $"res {Encoding.UTF8.GetString(res.Data.Span)}",
        _ => answer.Type,
    };

    private static bool Connected(MeshNode node, MeshNode other) => node.DescribePeers().Any(peer => peer.NodeId == other.Id && peer.IsConnected);

    private async Task<MeshNode> StartNodeAsync(string name, string? id, TestLog log) =>
        await MeshNode.StartAsync(new MeshOptions
        {
            NodeName = name,
            NodeId = id,
            Discovery = new DiscoveryOptions { Registry = "local:" + _root, HeartbeatInterval = TimeSpan.FromMilliseconds(250), Ttl = TimeSpan.FromSeconds(2) },
            LoggerFactory = log,
        });
}
