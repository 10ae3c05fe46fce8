using MeshActors.Peers;
using MeshActors.Protocol;
using Xunit.Abstractions;

namespace MeshActors.Tests.Peers;

using MeshActors.TestKit;

/// <summary>
/// docs/protocol.md 9.1 through a real HTTP/2 channel: each bad input gets its defined answer, one log line and a count,
/// while a well-behaved peer of the same node keeps exchanging messages. (HTTP/1.1 and other paths are the
/// transport's: see MeshListenerSpec.)
/// </summary>
[Collection(nameof(PeersCollection))]
public sealed class BadInputSpec(ITestOutputHelper output) : TestKit(output), IAsyncLifetime
{
    private const int BadFrameLog = 4003;
    private TestNode _node = null!;
    private TestNode _good = null!;
    private int _round;
    private long _badFramesBefore;
    private int _logLinesBefore;

    private ITestOutputHelper Log => Output!;

    public Task InitializeAsync() => StartAsync(new PeerOptions());

    private async Task StartAsync(PeerOptions options)
    {
        _round = 0;
        _node = await TestNode.StartAsync(Log, "node", options);
        _good = await TestNode.StartAsync(Log, "good");
        _good.Dial(_node);
        await ExchangeWithTheGoodPeerAsync();
        // A short handshake timeout may have cut the good peer's first channel while the process was busy.
        _badFramesBefore = _node.Directory.Totals.BadFrames;
        _logLinesBefore = _node.Log.Count(BadFrameLog);
    }

    public async Task DisposeAsync()
    {
        await _good.DisposeAsync();
        await _node.DisposeAsync();
    }

    [Fact]
    public async Task A_length_prefix_above_the_limit_must_get_frame_too_large_and_close_the_channel()
    {
        await using var raw = await RawPeer.OpenAsync(_node.Address);
        await raw.HandshakeAsync();

        await raw.WriteAsync([0x7F, 0xFF, 0xFF, 0xFF]);

        Assert.Equal(ErrorCodes.FrameTooLarge, (await raw.ReadErrAsync()).Code);
        await ExpectClosedAsync(raw);
    }

    [Fact]
    public async Task A_truncated_frame_must_get_truncated_frame_and_close_the_channel()
    {
        await using var raw = await RawPeer.OpenAsync(_node.Address);
        await raw.HandshakeAsync();

        await raw.WriteAsync([0, 0, 0, 50, (byte)'{', (byte)'"']);
        await raw.Channel.Output.CompleteAsync();

        Assert.Equal(ErrorCodes.TruncatedFrame, (await raw.ReadErrAsync()).Code);
        await ExpectClosedAsync(raw);
    }

    [Fact]
    public async Task Invalid_json_must_get_bad_json_and_the_channel_must_go_on()
    {
        await ExpectComplaintAndGoOnAsync("{\"t\":\"pub\",", ErrorCodes.BadJson);
    }

    [Fact]
    public async Task An_unknown_type_must_get_unknown_type_and_the_channel_must_go_on()
    {
        await ExpectComplaintAndGoOnAsync("{\"t\":\"frob\",\"x\":1}", ErrorCodes.UnknownType);
    }

    [Fact]
    public async Task A_request_missing_its_service_must_get_bad_envelope_with_its_id_and_the_channel_must_go_on()
    {
        var err = await ExpectComplaintAndGoOnAsync("{\"t\":\"req\",\"id\":7,\"data\":1}", ErrorCodes.BadEnvelope);
        Assert.Equal(7, err.Id);
    }

    [Fact]
    public async Task A_protocol_version_offer_the_node_does_not_speak_must_get_unsupported_version()
    {
        await using var raw = await RawPeer.OpenAsync(_node.Address, versions: "2");

        Assert.Equal(WireProtocol.Version, raw.Channel.ProtocolVersion);
        Assert.Equal(ErrorCodes.UnsupportedVersion, (await raw.ReadErrAsync()).Code);
        await ExpectClosedAsync(raw);
    }

    [Fact]
    public async Task A_hello_with_another_version_must_get_unsupported_version()
    {
        await using var raw = await RawPeer.OpenAsync(_node.Address);
        Assert.IsType<Envelope.Hello>(await raw.ReadAsync());

        await raw.WriteJsonAsync("{\"t\":\"hello\",\"v\":2,\"node\":\"raw-node\",\"name\":\"raw\"}");

        Assert.Equal(ErrorCodes.UnsupportedVersion, (await raw.ReadErrAsync()).Code);
        await ExpectClosedAsync(raw);
    }

    [Fact]
    public async Task A_first_frame_that_is_not_a_hello_must_get_protocol_error()
    {
        await using var raw = await RawPeer.OpenAsync(_node.Address);
        Assert.IsType<Envelope.Hello>(await raw.ReadAsync());

        await raw.WriteJsonAsync("{\"t\":\"pub\",\"topic\":\"seq\",\"data\":{\"n\":0}}");

        Assert.Equal(ErrorCodes.ProtocolError, (await raw.ReadErrAsync()).Code);
        await ExpectClosedAsync(raw);
    }

    [Fact]
    public async Task A_second_hello_must_get_protocol_error()
    {
        await using var raw = await RawPeer.OpenAsync(_node.Address);
        await raw.HandshakeAsync();

        await raw.WriteAsync(new Envelope.Hello("raw-node", "raw"));

        Assert.Equal(ErrorCodes.ProtocolError, (await raw.ReadErrAsync()).Code);
        await ExpectClosedAsync(raw);
    }

    [Fact]
    public async Task A_peer_that_sends_no_hello_must_get_handshake_timeout()
    {
        await DisposeAsync();
        await StartAsync(new PeerOptions { HandshakeTimeout = TimeSpan.FromMilliseconds(300) });
        await using var raw = await RawPeer.OpenAsync(_node.Address);
        Assert.IsType<Envelope.Hello>(await raw.ReadAsync());

        Assert.Equal(ErrorCodes.HandshakeTimeout, (await raw.ReadErrAsync()).Code);
        await ExpectClosedAsync(raw);
    }

    private async Task<Envelope.Err> ExpectComplaintAndGoOnAsync(string json, string code)
    {
        var probe = CreateTestProbe();
        _node.Handler.Probe = probe.Ref;
        _node.Handler.ForwardPubs = true;
        await using var raw = await RawPeer.OpenAsync(_node.Address);
        await raw.HandshakeAsync();

        await raw.WriteJsonAsync(json);
        var err = await raw.ReadErrAsync();
        await raw.WriteAsync(RecordingHandler.Pub(0, topic: "after"));

        Assert.Equal(code, err.Code);
        var received = await probe.FishForMessageAsync<RecordingHandler.Received>(r => r.Envelope is Envelope.Pub { Topic: "after" }, TestTimeouts.Default);
        Assert.Equal("raw-node", received.Peer.NodeId);
        await ExpectCountedAsync();
        return err;
    }

    // The node ended its side after the err (reading the raw peer's side to its end), counted and logged the bad
    // input once, and still serves the good peer.
    private async Task ExpectClosedAsync(RawPeer raw)
    {
        Assert.True(await raw.ReadToEndAsync().WithTimeout());
        await raw.Channel.Output.CompleteAsync();
        await ExpectCountedAsync();
    }

    private async Task ExpectCountedAsync()
    {
        await AwaitConditionAsync(() => _node.Directory.Totals.BadFrames == _badFramesBefore + 1, TestTimeouts.Default);
        Assert.Equal(_logLinesBefore + 1, _node.Log.Count(BadFrameLog));
        await ExchangeWithTheGoodPeerAsync();
    }

    private async Task ExchangeWithTheGoodPeerAsync()
    {
        const int count = 1000;
        var first = _round++ * count;
        var toGood = await _node.ConnectedPeerAsync(_good);
        var toNode = await _good.ConnectedPeerAsync(_node);
        await Task.WhenAll(DataPlaneSpec.SendAsync(toGood, count, first), DataPlaneSpec.SendAsync(toNode, count, first));
        var atGood = _good.Handler.From(_node.Id);
        var atNode = _node.Handler.From(_good.Id);
        await AwaitConditionAsync(() => atGood.Count == first + count && atNode.Count == first + count, TestTimeouts.Default);
        Assert.True(atGood.IsExactly(first + count), atGood.ToString());
        Assert.True(atNode.IsExactly(first + count), atNode.ToString());
    }
}
