using System.Diagnostics;
using System.Net;
using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Tests.Peers;
using MeshActors.Tests.Transport;
using MeshActors.Transport;
using Xunit.Abstractions;
using static MeshActors.Tests.Peers.UnaryClient;

namespace MeshActors.Tests.Mesh;

using MeshActors.TestKit;

/// <summary>Unary calls at the edges: a node that stops, a request without a timeout. Real nodes on loopback HTTP/2 with the local-directory registry.</summary>
public sealed class UnaryCallEdgeSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    /// <summary>
    /// docs/messaging.md, A stopping node: "A unary call ends once its requests are answered ...; a caller whose body is
    /// still open gets err unavailable (without id) as the last frame". A request the caller cancels is no longer owed
    /// an answer (UnaryCaller: "True once every request is answered or cancelled by the caller"), so a call whose last
    /// request is cancelled while the node stops has nothing left and must end then, not at the shutdown timeout.
    /// </summary>
    [Fact]
    public async Task A_unary_call_whose_last_request_is_cancelled_while_its_provider_stops_must_end_at_once_with_err_unavailable()
    {
        // A short goodbye grace: the stop's drain gives up on the request (still running) quickly, and the listener stops.
        var provider = await Start("provider", peers: new PeerOptions { GoodbyeGrace = TimeSpan.FromSeconds(1) });
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await provider.AddService<int?, string>("poll", async (_, _, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct); // a long poll: ends when its caller cancels
            return "never";
        }).Ready;
        var address = new DnsEndPoint(provider.Self.Host, provider.Self.Port);

        // A caller with its body open and one request in flight.
        await using var call = await RawPeer.OpenUnaryAsync(address);
        await call.WriteAsync(PatientReq(1, "poll"));
        await started.Task.WithTimeout();
        // A second caller with its body open and nothing asked: it ends as soon as the listener begins to stop.
        await using var idle = await RawPeer.OpenUnaryAsync(address);

        var stopping = provider.StopAsync();
        Assert.Equal("err unavailable", Describe((await idle.ReadAsync())!));
        Assert.True(await idle.ReadToEndAsync(), "the idle call was reset");

        // The listener is stopping now; the caller gives its request up: nothing is owed on the call any more.
        await call.WriteAsync(Cancel(1));
        var watch = Stopwatch.StartNew();
        var frames = new List<string>();
        bool inOrder;
        try
        {
            while (await call.ReadAsync() is { } frame)
                frames.Add(Describe(frame));
            inOrder = true;
        }
        catch (ChannelClosedException)
        {
            inOrder = false;
        }

        Output!.WriteLine($"call ended {(inOrder ? "in order" : "with a reset")} after {watch.Elapsed.TotalMilliseconds:0} ms: [{string.Join(", ", frames)}]");
        Assert.True(inOrder && frames.SequenceEqual(["err unavailable"]) && watch.Elapsed < TestTimeouts.Scaled(TimeSpan.FromSeconds(3)),
            $"the call ended {(inOrder ? "in order" : "with a stream reset")} {watch.Elapsed.TotalMilliseconds:0} ms after its last request was cancelled, with [{string.Join(", ", frames)}]");
        await stopping.WithTimeout();
    }

    /// <summary>
    /// docs/protocol.md 10: "Every req is answered by its deadline: timeout_ms, or, without it, the provider's default
    /// request timeout (MeshActors: PeerOptions.UnaryRequestTimeout)". The actor-hosted handler's ask must not carry a
    /// timer of its own that fires first and fails the request as the handler's error (AskTimeoutException): the
    /// commit that dropped that timer for requests with timeout_ms left it on those without, where the call's deadline
    /// is UnaryRequestTimeout, not this node's MessagingOptions.RequestTimeout.
    /// </summary>
    [Fact]
    public async Task An_actor_hosted_service_must_have_the_whole_unary_deadline_to_answer_a_unary_request_without_timeout_ms()
    {
        var provider = await Start(
            "provider",
            peers: new PeerOptions { UnaryRequestTimeout = TestTimeouts.Default },
            messaging: new MessagingOptions { RequestTimeout = TimeSpan.FromSeconds(1) }, // this node's own calls
            system: Sys);
        var handler = CreateTestProbe();
        await provider.AddService("slow", handler.Ref).Ready;
        await using var call = await RawPeer.OpenUnaryAsync(new DnsEndPoint(provider.Self.Host, provider.Self.Port));
        await call.WriteAsync(Req(1, "slow")); // no timeout_ms: the call's deadline is UnaryRequestTimeout
        await call.Channel.Output.CompleteAsync();

        await handler.ExpectMsgAsync<ServiceRequest>();
        var received = Stopwatch.StartNew();
        // The handler actor takes a little longer than this node's RequestTimeout, far within the call's deadline.
        await AwaitConditionAsync(() => received.Elapsed > TimeSpan.FromSeconds(2), TestTimeouts.Default);
        handler.Reply("done");

        var frames = new List<string>();
        while (await call.ReadAsync() is { } frame)
            frames.Add(Describe(frame) + (frame is Envelope.Err err ? $" ({err.ExceptionType}: {err.Message})" : ""));
        Output!.WriteLine(string.Join(Environment.NewLine, frames));
        Assert.Equal(["res 1 \"done\""], frames);
    }
}
