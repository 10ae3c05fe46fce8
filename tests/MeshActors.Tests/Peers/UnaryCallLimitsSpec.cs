using System.Diagnostics;
using System.Text;
using MeshActors.Peers;
using MeshActors.Protocol;
using Xunit.Abstractions;
using static MeshActors.Tests.Peers.UnaryClient;

namespace MeshActors.Tests.Peers;

using MeshActors.TestKit;

/// <summary>
/// Unary calls (docs/protocol.md 10) on the bare peer layer, over real loopback HTTP/2: the answer every
/// request is owed, how a malformed frame is answered while a request awaits its answer, and the idle end of a call.
/// </summary>
[Collection(nameof(PeersCollection))]
public sealed class UnaryCallLimitsSpec(ITestOutputHelper output) : TestKit(output)
{
    /// <summary>
    /// docs/protocol.md 10: "exactly one res or err per req" and "Every req is answered by its deadline ... At the
    /// deadline the server answers err timeout". The deadline's err goes through <c>TrySend</c>: when the call's queue
    /// is at its cap (the caller reads slower than its answers come) it is refused and counted as a drop, yet the
    /// request counts as answered, so the response ends without any answer to it.
    /// </summary>
    [Fact]
    public async Task A_request_must_get_err_timeout_at_its_deadline_even_while_the_calls_queue_is_at_its_cap()
    {
        const int cap = 64 * 1024;
        await using var node = await TestNode.StartAsync(Output!, "capped", new PeerOptions
        {
            OutboundQueueCapBytes = cap, HeartbeatInterval = TimeSpan.FromSeconds(1), LivenessTimeout = TimeSpan.FromSeconds(30),
        });
        var probe = CreateTestProbe();
        node.Handler.Probe = probe.Ref;
        await using var call = await RawPeer.OpenUnaryAsync(node.Address);
        await call.WriteAsync(PatientReq(1, "s"));
        await call.WriteAsync(PatientReq(2, "s"));
        var caller = (await ExpectAsync<Envelope.Req>(probe, 1)).Peer;
        await ExpectAsync<Envelope.Req>(probe, 2);

        // The caller reads nothing for now: an answer larger than its stream window (4 MB) holds the writer, and the
        // next answer stays queued, above the cap.
        Assert.True(caller.TrySend(new Envelope.Res(1, JsonString(12 * 1024 * 1024))));
        await AwaitConditionAsync(() => caller.QueuedBytes == 0, TestTimeouts.Default, message: "the writer never took answer 1");
        Assert.True(caller.TrySend(new Envelope.Res(2, JsonString(80 * 1024))));
        await call.WriteAsync(Req(3, "s", timeoutMs: 50));
        await ExpectAsync<Envelope.Req>(probe, 3);
        await ExpectAsync<Envelope.Cancel>(probe, 3); // the deadline passed, and the handler heard so
        Assert.True(caller.QueuedBytes > cap, $"answer 2 left the queue before request 3's deadline ({caller.QueuedBytes} bytes queued)");

        // Now the caller ends its body and reads everything.
        await call.Channel.Output.CompleteAsync();
        var answers = new List<string>();
        while (await call.ReadAsync() is { } frame)
        {
            answers.Add(Short(frame));
        }

        Assert.Equal(["res 1", "res 2", "err timeout 3"], answers);
    }

    /// <summary>
    /// docs/protocol.md 10: answers are matched by id, one per req, and "A req whose id is still awaiting its answer on
    /// the same call is rejected with bad_envelope (without id; the first one is still answered)". A malformed req that
    /// reuses the awaited id is answered with an err that carries that id (9.1's rule for channels), which the caller
    /// takes for the answer to its first request; the real answer then comes as a second one for the same id.
    /// </summary>
    [Fact]
    public async Task A_malformed_req_reusing_the_id_of_a_request_awaiting_its_answer_must_be_refused_without_that_id()
    {
        await using var node = await TestNode.StartAsync(Output!, "node");
        var probe = CreateTestProbe();
        node.Handler.Probe = probe.Ref;
        await using var call = await RawPeer.OpenUnaryAsync(node.Address);
        await call.WriteAsync(PatientReq(1, "s"));
        var caller = (await ExpectAsync<Envelope.Req>(probe, 1)).Peer;

        await call.WriteAsync(Frame("""{"t":"req","id":1,"data":null}""")); // no service: bad_envelope, its id readable
        var complaint = await call.ReadErrAsync();
        Assert.True(caller.TrySend(new Envelope.Res(1, "42"u8.ToArray())));
        await call.Channel.Output.CompleteAsync();
        var rest = new List<string>();
        while (await call.ReadAsync() is { } frame)
        {
            rest.Add(Describe(frame));
        }

        Assert.Equal(ErrorCodes.BadEnvelope, complaint.Code);
        Assert.Equal(["res 1 42"], rest);
        Assert.True(complaint.Id is null, $"the complaint about the malformed frame carries id {complaint.Id}, which request 1 awaits its answer under");
    }

    /// <summary>
    /// docs/protocol.md 10: a caller that keeps its body open "while it sends nothing and no req of its awaits an
    /// answer is ended after the server's liveness timeout of that silence". The idle check remembers a request awaited
    /// only at its own ticks (every heartbeat interval), so the silence is counted from the last tick before the answer,
    /// and the caller is ended up to one heartbeat interval before the liveness timeout since its answer has passed.
    /// </summary>
    [Fact]
    public async Task A_caller_keeping_its_body_open_must_be_given_the_whole_liveness_timeout_of_silence_after_its_last_answer()
    {
        var heartbeat = TimeSpan.FromSeconds(1);
        var liveness = TimeSpan.FromMilliseconds(2500); // at least twice the heartbeat interval, as MeshOptions requires
        await using var node = await TestNode.StartAsync(Output!, "patient", new PeerOptions { HeartbeatInterval = heartbeat, LivenessTimeout = liveness });
        await using var call = await RawPeer.OpenUnaryAsync(node.Address);

        // Nobody answers "s": its deadline does, 1.8 s after the call opened, so between two of the node's idle checks.
        await call.WriteAsync(Req(1, "s", timeoutMs: 1800));
        var answer = await call.ReadErrAsync();
        var silence = Stopwatch.StartNew();
        var end = await call.ReadErrAsync();
        silence.Stop();

        Assert.Equal((ErrorCodes.Timeout, (long?)1), (answer.Code, answer.Id));
        Assert.Equal((ErrorCodes.Timeout, (long?)null), (end.Code, end.Id));
        Assert.True(silence.Elapsed >= liveness - TestTimeouts.TimerSlack, $"ended {silence.Elapsed.TotalMilliseconds:0} ms after its answer; the liveness timeout is {liveness.TotalMilliseconds:0} ms");
    }

    private static async Task<RecordingHandler.Received> ExpectAsync<T>(TestProbe probe, long id)
        where T : Envelope =>
        await probe.ExpectMsgAsync<RecordingHandler.Received>(
            r => r.Envelope is T envelope && envelope switch
            {
                Envelope.Req req => req.Id == id,
                Envelope.Cancel cancel => cancel.Id == id,
                _ => false,
            },
            TestTimeouts.Default);

    private static byte[] JsonString(int length) => Encoding.UTF8.GetBytes("\"" + new string('x', length - 2) + "\"");

    private static string Short(Envelope envelope) => envelope switch
    {
        Envelope.Res res => $"res {res.Id}",
        _ => Describe(envelope),
    };
}
