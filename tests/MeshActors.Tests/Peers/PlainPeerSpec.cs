using System.Buffers;
using System.Text;
using MeshActors.Discovery;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Tests.Transport;
using MeshActors.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Peers;

using MeshActors.TestKit;

/// <summary>Plain Marketrix peers (no <c>x-mesh-protocol</c>, every frame a JSON message) beside mesh nodes.</summary>
[Collection(nameof(PeersCollection))]
public sealed class PlainPeerSpec(ITestOutputHelper output) : TestKit(output)
{
    private static readonly byte[] FromNode = Encoding.UTF8.GetBytes("{\"message\":\"Message from Node #0\"}");
    private static readonly byte[] FromPython = Encoding.UTF8.GetBytes("{\"message\":\"Message from Python #0\"}");

    private ITestOutputHelper Log => Output!;

    [Fact]
    public async Task A_plain_peer_that_dials_must_exchange_raw_messages_and_have_its_bad_json_dropped()
    {
        var probe = CreateTestProbe();
        await using var node = await TestNode.StartAsync(Log, "python");
        node.Handler.Probe = probe.Ref;
        await using var marketrix = await RawPeer.OpenAsync(node.Address, versions: null, name: "node-peer");
        Assert.Null(marketrix.Channel.ProtocolVersion);

        await marketrix.WriteAsync(RawPeer.Frame(FromNode));
        await marketrix.WriteJsonAsync("{\"message\":");
        await marketrix.WriteAsync(RawPeer.Frame(FromNode));

        var first = await probe.FishForMessageAsync<RecordingHandler.Received>(_ => true, TestTimeouts.Default);
        var second = await probe.ExpectMsgAsync<RecordingHandler.Received>(timeout: TestTimeouts.Default);
        var peer = first.Peer;
        Assert.False(peer.SpeaksMeshProtocol);
        Assert.StartsWith("plain:node-peer@127.0.0.1:", peer.NodeId);
        Assert.Equal(FromNode, Assert.IsType<Envelope.Raw>(first.Envelope).Json.ToArray());
        Assert.Equal(FromNode, Assert.IsType<Envelope.Raw>(second.Envelope).Json.ToArray());
        Assert.Equal(1, node.Directory.Totals.BadFrames);

        // A typed envelope cannot go to a plain peer: it is dropped, counted, and the raw message behind it still goes.
        Assert.True(peer.TrySend(RecordingHandler.Pub(0)));
        Assert.True(peer.TrySend(new Envelope.Raw(FromPython)));
        Assert.Equal(FromPython, Assert.IsType<Envelope.Raw>(await marketrix.ReadAsync()).Json.ToArray());
        Assert.Equal(1, node.Directory.Totals.Dropped);
    }

    [Fact]
    public async Task A_plain_peer_that_dials_must_get_the_node_id_of_the_only_member_of_its_name()
    {
        var probe = CreateTestProbe();
        await using var node = await TestNode.StartAsync(Log, "python");
        node.Handler.Probe = probe.Ref;
        node.System.EventStream.Publish(new MemberUp(new MeshMember("0b6f4a52-3c2e-4d8a-9f61-2a7c9e1d5b30", "node-peer", "127.0.0.1", 1)));
        await using var marketrix = await RawPeer.OpenAsync(node.Address, versions: null, name: "node-peer");

        await marketrix.WriteAsync(RawPeer.Frame(FromNode));

        var received = await probe.FishForMessageAsync<RecordingHandler.Received>(_ => true, TestTimeouts.Default);
        Assert.Equal("0b6f4a52-3c2e-4d8a-9f61-2a7c9e1d5b30", received.Peer.NodeId);
    }

    [Fact]
    public async Task A_plain_member_must_be_dialed_without_offering_the_protocol()
    {
        var probe = CreateTestProbe();
        var accepted = new TaskCompletionSource<MeshChannel>(TaskCreationOptions.RunContinuationsAsynchronously);
        var released = new TaskCompletionSource();
        await using var marketrix = new MeshListener("python-peer", new TransportOptions(), channel =>
        {
            accepted.TrySetResult(channel);
            return released.Task;
        }, loggerFactory: new TestLog(Log));
        await marketrix.StartAsync().WithTimeout();
        await using var node = await TestNode.StartAsync(Log, "node");
        node.Handler.Probe = probe.Ref;
        var member = new MeshMember(Guid.NewGuid().ToString(), "python-peer", "127.0.0.1", marketrix.LocalEndPoint.Port); // ProtocolVersion 0

        node.System.EventStream.Publish(new MemberUp(member));

        var channel = await accepted.Task.WithTimeout();
        Assert.Null(channel.ProtocolVersion);
        var peer = await node.ConnectedPeerAsync(member.Id);
        Assert.False(peer.SpeaksMeshProtocol);
        Assert.True(peer.TrySend(new Envelope.Raw(FromNode)));
        await channel.Output.WriteAsync(RawPeer.Frame(FromPython));
        var read = await channel.Input.ReadAtLeastAsync(4 + FromNode.Length).AsTask().WithTimeout();
        Assert.Equal(RawPeer.Frame(FromNode), read.Buffer.Slice(0, 4 + FromNode.Length).ToArray());
        var received = await probe.FishForMessageAsync<RecordingHandler.Received>(_ => true, TestTimeouts.Default);
        Assert.Equal(FromPython, Assert.IsType<Envelope.Raw>(received.Envelope).Json.ToArray());
        released.TrySetResult();
    }
}
