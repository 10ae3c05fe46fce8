using System.Net;
using System.Text;
using System.Threading.Channels;
using MeshActors.Discovery;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Tests.Peers;
using MeshActors.Tests.Transport;
using Xunit.Abstractions;
using static MeshActors.Tests.Peers.UnaryClient;

namespace MeshActors.Tests.Mesh;

using MeshActors.TestKit;

/// <summary>
/// Review of unary calls, raw channel messages and plain (Marketrix) peers through real nodes on the local registry and
/// real loopback HTTP/2 (docs/protocol.md 2.3, 4.3 and 10; docs/messaging.md, Raw channel messages).
/// </summary>
public sealed class UnaryAndPlainPeerSpec(ITestOutputHelper output) : TestKit(output), IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "meshactors-review-" + Guid.NewGuid().ToString("N"));
    private readonly List<MeshNode> _nodes = [];
    private readonly TestLog _log = new(output);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
            await node.DisposeAsync();
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    /// <summary>
    /// IMesh.SendAsync promises "a raw channel message (a frame without a type)". An application message that happens to
    /// have a top-level <c>"t"</c> member (a type tag, a timestamp) is written as is onto a v1 channel, where the
    /// receiver reads it as a typed frame (docs/protocol.md 4.2): <c>unknown_type</c>, and the message is gone without
    /// the sender hearing of it. It must either arrive on the receiver's channel topic unchanged or be refused by the send.
    /// </summary>
    [Fact]
    public async Task SendAsync_to_a_mesh_node_must_not_silently_lose_a_raw_message_that_has_a_t_member()
    {
        var a = await StartAsync("sender");
        var b = await StartAsync("receiver");
        await WaitConnectedAsync(a, b);
        var received = Channel.CreateUnbounded<string>();
        await b.Subscribe(IMesh.ChannelTopic, message =>
        {
            received.Writer.TryWrite(Text(message.Data));
            return default;
        }).Ready;

        var refused = await Record.ExceptionAsync(async () => await a.SendAsync(b.Id, new { t = "quote", sym = "ABC" }));
        await a.SendAsync(b.Id, new { message = "marker" });

        // Frames on one channel arrive in order: once the marker is in, whatever came before it is in too.
        var seen = new List<string>();
        while (!seen.Contains("""{"message":"marker"}"""))
            seen.Add(await received.Reader.ReadAsync().AsTask().WithTimeout());
        if (refused is null)
        {
            Assert.Equal(["""{"t":"quote","sym":"ABC"}""", """{"message":"marker"}"""], seen);
        }
        else
        {
            Assert.IsType<ArgumentException>(refused);
            Assert.Equal(["""{"message":"marker"}"""], seen);
        }

        Assert.Equal(0, b.PeerTotals.BadFrames);
    }

    /// <summary>
    /// A plain Marketrix peer that dials a node is given "the node id of the only member with its name". When that
    /// member is a MeshActors node (protocol 1, with a v1 channel of its own), the plain channel is glued to that node's
    /// link: its raw messages arrive as sent by the other node, and the answer sent to their sender goes to that node,
    /// never to the plain peer.
    /// </summary>
    [Fact]
    public async Task A_plain_peer_that_shares_its_name_with_a_mesh_node_must_not_be_taken_for_that_node()
    {
        var hub = await StartAsync("hub");
        var twin = await StartAsync("twin");
        await WaitConnectedAsync(hub, twin);
        await AwaitConditionAsync(() => hub.Members.Any(member => member.Id == twin.Id), TestTimeouts.Default);
        var atHub = new TaskCompletionSource<TopicMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        await hub.Subscribe(IMesh.ChannelTopic, message =>
        {
            atHub.TrySetResult(message);
            return default;
        }).Ready;
        var atTwin = new TaskCompletionSource<TopicMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        await twin.Subscribe(IMesh.ChannelTopic, message =>
        {
            atTwin.TrySetResult(message);
            return default;
        }).Ready;
        await using var marketrix = await RawPeer.OpenAsync(new DnsEndPoint(hub.Self.Host, hub.Self.Port), versions: null, name: "twin");

        await marketrix.WriteJsonAsync("""{"message":"Message from Node #0"}""");
        var message = await atHub.Task.WithTimeout();
        await hub.SendAsync(message.SenderId, new { message = "answer" });

        Assert.NotEqual(twin.Id, message.SenderId);
        var answer = Assert.IsType<Envelope.Raw>(await marketrix.ReadAsync());
        Assert.Equal("""{"message":"answer"}""", Text(answer.Json));
        Assert.False(atTwin.Task.IsCompleted, "the answer to the plain peer went to the mesh node of the same name");
    }

    /// <summary>
    /// docs/protocol.md 10: a caller that keeps its body open and sends nothing is ended after the liveness timeout
    /// "so that a forgotten call cannot hold a stream forever"; its requests are answered by their deadlines. A caller
    /// that stops reading after its requests were answered is as idle: an answer waiting for room in the call's queue
    /// (flow control has stopped the writer) waits for the caller, not for this node.
    /// </summary>
    [Fact]
    public async Task A_unary_caller_that_stops_reading_must_still_be_ended_after_the_liveness_timeout()
    {
        var node = await StartAsync("provider", new PeerOptions
        {
            HeartbeatInterval = TimeSpan.FromMilliseconds(100),
            LivenessTimeout = TimeSpan.FromMilliseconds(500),
            GoodbyeGrace = TimeSpan.FromMilliseconds(500),
            BackpressureEnvelopes = 16,
            BackpressureBytes = 64 * 1024,
        });
        var blob = new string('x', 64 * 1024);
        var handled = 0;
        await node.AddService<int, string>("blob", (_, _, _) =>
        {
            Interlocked.Increment(ref handled);
            return new ValueTask<string>(blob);
        }).Ready;
        await using var caller = await RawPeer.OpenUnaryAsync(new DnsEndPoint(node.Self.Host, node.Self.Port));

        // 200 answers of 64 KB: far more than the caller's 4 MB stream window, so the writer stops; the caller reads nothing.
        const int Requests = 200;
        await caller.WriteAsync(Enumerable.Range(1, Requests).SelectMany(id => Req(id, "blob", "1", timeoutMs: 1000)).ToArray());
        await AwaitConditionAsync(() => Volatile.Read(ref handled) == Requests, TestTimeouts.Default, message: "every request reached its handler");

        // Every request has been answered by its handler and its 1 s deadline is long past; the caller sends nothing.
        await AwaitConditionAsync(() => node.PeerTotals.LivenessTimeouts >= 1, TestTimeouts.Default,
            message: "the silent call that reads nothing was never ended");
    }

    private async Task<MeshNode> StartAsync(string name, PeerOptions? peers = null)
    {
        var node = await MeshNode.StartAsync(new MeshOptions
        {
            NodeName = name,
            Discovery = new DiscoveryOptions { Registry = "local:" + _root, HeartbeatInterval = TimeSpan.FromMilliseconds(250), Ttl = TimeSpan.FromSeconds(2) },
            Peers = peers ?? new PeerOptions(),
            LoggerFactory = _log,
        });
        _nodes.Add(node);
        return node;
    }

    private Task WaitConnectedAsync(params MeshNode[] nodes) => AwaitConditionAsync(
        () => nodes.All(node => node.DescribePeers().Count(peer => peer.IsConnected) >= nodes.Length - 1),
        TestTimeouts.Default,
        message: "every node connected to every other");
}
