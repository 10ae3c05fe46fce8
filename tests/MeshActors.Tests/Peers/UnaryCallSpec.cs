using System.Diagnostics;
using System.Net;
using MeshActors.Peers;
using MeshActors.Protocol;
using Xunit.Abstractions;
using static MeshActors.Tests.Peers.UnaryClient;

namespace MeshActors.Tests.Peers;

using MeshActors.TestKit;

/// <summary>
/// docs/protocol.md 10 on the bare peer layer (a <see cref="RecordingHandler"/> instead of messaging, so that the test
/// answers requests itself): a unary call's frames reach the handler from a short-lived peer, its answers stream back,
/// bad frames are answered as on a channel, every request gets one answer by its deadline, and the response ends once
/// the request body has ended and every request is answered.
/// </summary>
[Collection(nameof(PeersCollection))]
public sealed class UnaryCallSpec(ITestOutputHelper output) : TestKit(output), IAsyncLifetime
{
    private const int BadFrameLog = 4003;
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromMilliseconds(400);

    private TestNode _node = null!;
    private TestProbe _probe = null!;

    public async Task InitializeAsync()
    {
        _node = await TestNode.StartAsync(Output!, "node", new PeerOptions { UnaryRequestTimeout = DefaultTimeout });
        _probe = CreateTestProbe();
        _node.Handler.Probe = _probe.Ref;
        _node.Handler.ForwardPubs = true;
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task A_ping_must_get_its_pong_in_a_response_that_ends_with_the_request_and_carries_no_hello()
    {
        var response = await CallAsync(_node.Address, [Ping(42)]);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("1", response.Version);
        Assert.Equal([new Envelope.Pong(42)], response.Frames);
    }

    [Fact]
    public async Task The_frames_must_reach_the_handler_in_order_from_the_caller_its_hello_names()
    {
        var response = await CallAsync(
            _node.Address, [Hello("script-1", "script"), Pub("a", "1"), Frame("""{"message":"hi"}"""), Pub("b", "2")], name: "curl");

        Assert.Empty(response.Frames);
        var frames = await ReceivedAsync(3);
        Assert.Equal(["a", "$raw", "b"], frames.Select(r => r.Envelope is Envelope.Pub pub ? pub.Topic : "$raw"));
        Assert.All(frames, r => Assert.Equal(("script-1", "script"), (r.Peer.NodeId, r.Peer.Name)));
        Assert.False(_node.Directory.TryGet("script-1", out _)); // a caller is nobody's link
    }

    [Fact]
    public async Task A_caller_without_hello_must_be_named_after_its_service_name_and_address()
    {
        await CallAsync(_node.Address, [Pub("a", "1")], name: "curl");

        var received = Assert.Single(await ReceivedAsync(1));
        Assert.Equal("curl", received.Peer.Name);
        Assert.StartsWith("unary:curl@127.0.0.1:", received.Peer.NodeId);
        Assert.False(received.Peer.AcceptsAttachments);
    }

    [Fact]
    public async Task Answers_must_stream_in_completion_order_and_the_response_must_end_once_every_request_is_answered()
    {
        // Opening returns once the response headers are in: they are sent at once, before any answer.
        await using var call = await RawPeer.OpenUnaryAsync(_node.Address);
        await call.WriteAsync(PatientReq(1, "s"));
        await call.WriteAsync(PatientReq(2, "s"));
        var requests = await ReceivedAsync(2);
        var caller = requests[0].Peer;

        Assert.True(caller.TrySend(new Envelope.Res(2, "\"second\""u8.ToArray())));
        Assert.Equal("res 2 \"second\"", Describe((await call.ReadAsync())!));
        await call.Channel.Output.CompleteAsync();
        await caller.SendAsync(new Envelope.Err(ErrorCodes.HandlerError, "first failed") { Id = 1 });

        Assert.Equal(new Envelope.Err(ErrorCodes.HandlerError, "first failed") { Id = 1 }, await call.ReadAsync());
        Assert.True(await call.ReadToEndAsync().WithTimeout(), "the response must end in order");
        Assert.False(caller.TrySend(new Envelope.Res(1, "null"u8.ToArray())), "an answer after the end goes nowhere");
    }

    [Fact]
    public async Task Requests_left_unanswered_must_get_err_timeout_by_their_deadline_and_their_handlers_a_cancel()
    {
        var watch = Stopwatch.StartNew();

        var response = await CallAsync(_node.Address, [Req(1, "s"), Req(2, "s", timeoutMs: 50)]);

        // Request 2 named 50 ms; request 1 named none and got the node's default.
        Assert.Equal([2L, 1L], response.Frames.Select(frame => Assert.IsType<Envelope.Err>(frame).Id!.Value));
        Assert.All(response.Frames, frame => Assert.Equal(ErrorCodes.Timeout, ((Envelope.Err)frame).Code));
        Assert.True(watch.Elapsed >= DefaultTimeout - TestTimeouts.TimerSlack, $"answered after {watch.Elapsed}");
        var seen = await ReceivedAsync(4);
        Assert.Equal(new long[] { 2, 1 }, seen.Skip(2).Select(r => Assert.IsType<Envelope.Cancel>(r.Envelope).Id));
    }

    [Fact]
    public async Task A_caller_that_keeps_its_body_open_with_nothing_to_answer_must_be_ended_with_err_timeout_after_the_liveness_timeout()
    {
        var liveness = TimeSpan.FromMilliseconds(500);
        await using var node = await TestNode.StartAsync(Output!, "idle", new PeerOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(100), LivenessTimeout = liveness });
        await using var caller = await RawPeer.OpenUnaryAsync(node.Address);
        await caller.WriteAsync(Ping(1));
        Assert.Equal(new Envelope.Pong(1), await caller.ReadAsync());
        var idle = Stopwatch.StartNew();

        var err = await caller.ReadErrAsync();

        Assert.Equal((ErrorCodes.Timeout, (long?)null), (err.Code, err.Id));
        Assert.True(idle.Elapsed >= liveness - TestTimeouts.TimerSlack, $"ended after {idle.Elapsed}");
        Assert.True(await caller.ReadToEndAsync());
        Assert.Equal(1, node.Directory.Totals.LivenessTimeouts);
    }

    [Fact]
    public async Task A_caller_waiting_for_an_answer_must_not_count_as_idle_until_it_has_it()
    {
        await using var node = await TestNode.StartAsync(Output!, "patient", new PeerOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(100), LivenessTimeout = TimeSpan.FromMilliseconds(300) });
        await using var caller = await RawPeer.OpenUnaryAsync(node.Address);

        await caller.WriteAsync(Req(1, "s", timeoutMs: 1500));

        // Nobody answers "s": the deadline does, long after the liveness timeout; only then does the idle clock run.
        var answer = await caller.ReadErrAsync();
        Assert.Equal((ErrorCodes.Timeout, (long?)1), (answer.Code, answer.Id));
        var end = await caller.ReadErrAsync();
        Assert.Equal((ErrorCodes.Timeout, (long?)null), (end.Code, end.Id));
    }

    [Fact]
    public async Task A_cancel_from_the_caller_must_reach_the_handler_and_release_its_request_without_an_answer()
    {
        var response = await CallAsync(_node.Address, [PatientReq(1, "s"), Cancel(1)]);

        Assert.Empty(response.Frames);
        var seen = await ReceivedAsync(2);
        Assert.Equal(new Envelope.Cancel(1), seen[1].Envelope);
    }

    [Fact]
    public async Task Malformed_frames_must_each_get_an_err_counted_and_logged_once_while_the_rest_of_the_body_is_answered()
    {
        var response = await CallAsync(
            _node.Address, [Ping(1), Frame("""{"t":"pub","""), Frame("""{"t":"frob"}"""), Req(7, "s", timeoutMs: 500), Req(7, "s"), Ping(2)]);

        // A pong answers its ping and every earlier one (docs/protocol.md 5.8): whether ping 1 gets one of its own, and
        // where the pongs fall among the errs, depends on when the writer wakes.
        var frames = response.Frames.Select(Describe).ToList();
        Assert.Equal(["err bad_json", "err unknown_type", "err bad_envelope", "err timeout 7"], frames.Where(frame => !frame.StartsWith("pong", StringComparison.Ordinal)));
        Assert.Equal("pong 2", frames.Last(frame => frame.StartsWith("pong", StringComparison.Ordinal)));
        Assert.Equal(3, _node.Directory.Totals.BadFrames);
        Assert.Equal(3, _node.Log.Count(BadFrameLog));
    }

    [Fact]
    public async Task A_length_prefix_above_the_limit_must_get_frame_too_large_and_end_the_call()
    {
        var response = await CallAsync(_node.Address, [Ping(1), [0x7F, 0xFF, 0xFF, 0xFF], Ping(2)]);

        Assert.Equal(["pong 1", "err frame_too_large"], response.Frames.Select(Describe));
        Assert.Equal(1, _node.Directory.Totals.BadFrames);
    }

    [Fact]
    public async Task A_hello_after_the_first_frame_must_get_protocol_error_and_end_the_call()
    {
        var response = await CallAsync(_node.Address, [Ping(1), Hello("script-1", "script")]);

        Assert.Equal(["pong 1", "err protocol_error"], response.Frames.Select(Describe));
    }

    [Fact]
    public async Task A_malformed_hello_opening_the_call_must_get_bad_envelope_and_end_the_call()
    {
        // docs/protocol.md 9.1: a frame that does not decode is answered and the node goes on, but closes when it is a hello.
        var response = await CallAsync(_node.Address, [Frame("""{"t":"hello","v":1,"node":"script-1"}"""), Req(1, "s")]);

        Assert.Equal(["err bad_envelope"], response.Frames.Select(Describe));
    }

    [Fact]
    public async Task A_protocol_version_the_node_does_not_speak_must_get_unsupported_version()
    {
        var response = await CallAsync(_node.Address, [Ping(1)], versions: "2");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("1", response.Version);
        Assert.Equal(["err unsupported_version"], response.Frames.Select(Describe));
        Assert.Equal(1, _node.Directory.Totals.BadFrames);
    }

    [Fact]
    public async Task Without_x_mesh_protocol_every_frame_must_reach_the_handler_as_a_raw_message_and_nothing_be_answered()
    {
        var response = await CallAsync(_node.Address, [Frame("""{"message":"Message from Node #0"}"""), Ping(1)], versions: null);

        Assert.Null(response.Version);
        Assert.Empty(response.Frames);
        var raws = (await ReceivedAsync(2)).Select(r => Text(Assert.IsType<Envelope.Raw>(r.Envelope).Json));
        Assert.Equal(["""{"message":"Message from Node #0"}""", """{"t":"ping","n":1}"""], raws);
    }

    private async Task<List<RecordingHandler.Received>> ReceivedAsync(int count)
    {
        var received = new List<RecordingHandler.Received>();
        while (received.Count < count)
        {
            received.Add(await _probe.ExpectMsgAsync<RecordingHandler.Received>(timeout: TestTimeouts.Default));
        }

        return received;
    }
}
