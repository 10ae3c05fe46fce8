using System.Net;
using MeshActors.Discovery;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Tests.Transport;
using MeshActors.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Peers;

using MeshActors.TestKit;

/// <summary>
/// The listening side of a channel against docs/protocol.md, over real loopback HTTP/2: the name it answers with, the
/// handshake's first frame, and the goodbye of a peer that still waits for answers.
/// </summary>
[Collection(nameof(PeersCollection))]
public sealed class ListenerProtocolSpec(ITestOutputHelper output) : TestKit(output)
{
    private ITestOutputHelper Log => Output!;

    // The listener answers with its name as x-service-name, which Kestrel refuses when it is not ASCII: every channel
    // and unary call opened to such a node would get 500, and the node would run on without a single peer. The
    // listener must either refuse the name up front, as it refuses a blank one, or answer with it.
    [Fact]
    public async Task A_listener_must_refuse_a_service_name_it_cannot_send_or_else_answer_channels_with_it()
    {
        var log = new TestLog(Log);
        MeshListener listener;
        try
        {
            listener = new MeshListener("café", new TransportOptions(), channel => Task.Delay(Timeout.Infinite, channel.Aborted), loggerFactory: log);
        }
        catch (ArgumentException)
        {
            return; // refused when created: the node cannot start under a name no channel can carry
        }

        await using (listener)
        {
            await listener.StartAsync().WithTimeout();
            using var dialer = new MeshDialer("caller", new TransportOptions(), log);

            await using var channel = await dialer.OpenChannelAsync(listener.AdvertisedEndPoint).WithTimeout();

            Assert.Equal("café", channel.RemoteServiceName);
        }
    }

    // docs/protocol.md 7.1 (4) and 9.1: the first frame MUST be a hello, anything else fails the channel with
    // protocol_error, a malformed envelope too: bad_envelope is a code that says "continue" (9.2).
    [Fact]
    public async Task A_malformed_envelope_as_the_first_frame_must_get_protocol_error_and_close_the_channel()
    {
        await using var node = await TestNode.StartAsync(Log, "node");
        await using var raw = await RawPeer.OpenAsync(node.Address);
        Assert.IsType<Envelope.Hello>(await raw.ReadAsync());

        await raw.WriteJsonAsync("{\"t\":\"req\",\"id\":3,\"data\":1}");

        var err = await raw.ReadErrAsync();
        Assert.Equal(ErrorCodes.ProtocolError, err.Code);
        Assert.True(await raw.ReadToEndAsync().WithTimeout());
        Assert.Equal(0, node.Log.Count(4003, "(continuing)"));
    }

    // docs/protocol.md 7.4: the node that leaves sends bye and ends its body, and keeps reading "so answers to its own
    // requests still arrive"; the peer, on bye, "answers the requests it received from the leaving node" and only then
    // ends its body.
    [Fact]
    public async Task A_request_received_before_the_peers_goodbye_must_still_be_answered_before_the_channel_ends()
    {
        var root = Path.Combine(Path.GetTempPath(), "meshactors-bye-" + Guid.NewGuid().ToString("N"));
        var log = new TestLog(Log);
        var node = await MeshNode.StartAsync(new MeshOptions
        {
            NodeName = "provider",
            Discovery = new DiscoveryOptions { Registry = "local:" + root },
            LoggerFactory = log,
        });
        try
        {
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            await node.AddService<int, int>("slow", async (x, _, _) =>
            {
                started.TrySetResult();
                return await release.Task + x;
            }).Ready;
            await using var raw = await RawPeer.OpenAsync(new DnsEndPoint(node.Self.Host, node.Self.Port), name: "leaver");
            await raw.HandshakeAsync(nodeId: "leaver-node", name: "leaver");

            await raw.WriteAsync(new Envelope.Req(1, "slow", "7"u8.ToArray()));
            await started.Task.WithTimeout();
            await raw.WriteAsync(new Envelope.Bye(Envelope.Bye.Shutdown));
            await raw.Channel.Output.CompleteAsync();
            // The node has handled the bye: the req and the bye are the only frames it counts (handshakes are not
            // counted), and its read loop counts a read's frames once it has handled them all.
            await AwaitConditionAsync(() => node.PeerTotals.FramesReceived >= 2, TestTimeouts.Default);
            release.SetResult(35);

            var frames = new List<Envelope>();
            while (await raw.ReadAsync() is { } frame)
            {
                frames.Add(frame);
            }

            Assert.Contains(frames, frame => frame is Envelope.Res { Id: 1 } res && res.Data.Span.SequenceEqual("42"u8));
        }
        finally
        {
            await node.DisposeAsync();
            if (Directory.Exists(root))
                Directory.Delete(root, recursive: true);
        }
    }
}
