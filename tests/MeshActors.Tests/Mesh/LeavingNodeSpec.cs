using System.Diagnostics;
using System.Net;
using MeshActors.Discovery;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Tests.Peers;
using MeshActors.Tests.Transport;
using Xunit.Abstractions;
using static MeshActors.Tests.Peers.UnaryClient;

namespace MeshActors.Tests.Mesh;

using MeshActors.TestKit;

/// <summary>A node that stops: what it answered and sent before its goodbye must still reach whoever asked.</summary>
/// <remarks>Real nodes on loopback HTTP/2 with the local-directory registry.</remarks>
public sealed class LeavingNodeSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    [Fact]
    public async Task A_unary_request_answered_while_its_provider_stops_must_get_its_whole_answer()
    {
        var provider = await Start("provider");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var big = new string('x', 8 * 1024 * 1024);
        await provider.AddService<int?, string>("report", async (_, _, _) =>
        {
            started.TrySetResult();
            await gate.Task;
            return big;
        }).Ready;
        await using var call = await RawPeer.OpenUnaryAsync(new DnsEndPoint(provider.Self.Host, provider.Self.Port));
        await call.WriteAsync(PatientReq(1, "report"));
        await call.Channel.Output.CompleteAsync();
        await started.Task.WithTimeout();

        // The stop lets the request it is running finish (docs/messaging.md, A stopping node): it is answered during the drain.
        var stopping = provider.StopAsync();
        await AwaitConditionAsync(() => provider.MessagingLayer.Inbound.IsDraining, TestTimeouts.Default, message: "the provider to drain its requests");
        gate.SetResult();

        var answer = Assert.IsType<Envelope.Res>(await call.ReadAsync());
        Assert.Equal(big.Length + 2, answer.Data.Length);
        // The node may have read the end of the body before it stopped, or not: then the call ends saying why.
        if (await call.ReadAsync() is { } last)
            Assert.Equal("err unavailable", Describe(last));
        await stopping.WithTimeout();
    }

    [Fact]
    public async Task A_node_must_stop_at_once_though_a_channel_to_it_is_still_in_its_handshake()
    {
        // Long enough that waiting them out is unmistakable: a stop has nothing to drain on a channel without a peer yet.
        var peers = new PeerOptions { HandshakeTimeout = TimeSpan.FromSeconds(10), GoodbyeGrace = TimeSpan.FromSeconds(10) };
        var node = await Start("node", peers: peers);
        // A dialer whose hello has not come yet (a slow or crashed peer, or anything that can reach the port).
        await using var dialer = await RawPeer.OpenAsync(new DnsEndPoint(node.Self.Host, node.Self.Port));
        var watch = Stopwatch.StartNew();

        await node.StopAsync().WithTimeout();

        Output!.WriteLine($"stopped in {watch.Elapsed.TotalMilliseconds:0} ms");
        Assert.True(watch.Elapsed < TestTimeouts.Scaled(TimeSpan.FromSeconds(3)), $"the stop waited {watch.Elapsed} for a handshake that had not come");
    }

    [Fact]
    public async Task A_unary_caller_that_keeps_its_body_open_must_get_its_answers_and_not_hold_its_providers_stop()
    {
        var provider = await Start("provider");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await provider.AddService<int?, string>("report", async (_, _, _) =>
        {
            started.TrySetResult();
            await gate.Task;
            return "done";
        }).Ready;
        await using var call = await RawPeer.OpenUnaryAsync(new DnsEndPoint(provider.Self.Host, provider.Self.Port));
        await call.WriteAsync(PatientReq(1, "report"));
        await started.Task.WithTimeout();

        var watch = Stopwatch.StartNew();
        var stopping = provider.StopAsync();
        await AwaitConditionAsync(() => provider.MessagingLayer.Inbound.IsDraining, TestTimeouts.Default, message: "the provider to drain its requests");
        gate.SetResult();
        var frames = new List<string>();
        while (await call.ReadAsync() is { } frame)
            frames.Add(Describe(frame));
        await stopping.WithTimeout();

        // The body is still open: the call ends once its request is answered, saying why, not at the shutdown timeout.
        Assert.Equal(["res 1 \"done\"", "err unavailable"], frames);
        Assert.True(watch.Elapsed < TestTimeouts.Scaled(TimeSpan.FromSeconds(3)), $"the stop waited {watch.Elapsed} for a caller that had nothing more to be answered");
    }
}
