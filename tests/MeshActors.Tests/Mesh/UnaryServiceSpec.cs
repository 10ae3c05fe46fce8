using System.Diagnostics;
using System.Net;
using MeshActors.Discovery;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Tests.Transport;
using Xunit.Abstractions;
using static MeshActors.Tests.Peers.UnaryClient;

namespace MeshActors.Tests.Mesh;

using MeshActors.TestKit;

/// <summary>
/// docs/protocol.md 10 through a real node: a caller that keeps no channel reaches its services and topics with one
/// HTTP/2 <c>POST /unary</c>, and they behave exactly as they do for a peer on a channel.
/// </summary>
public sealed class UnaryServiceSpec(ITestOutputHelper output) : TestKit(output), IAsyncLifetime
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromMilliseconds(500);
    private readonly string _root = Path.Combine(Path.GetTempPath(), "meshactors-unary-" + Guid.NewGuid().ToString("N"));
    private readonly List<MeshNode> _nodes = [];
    private readonly TestLog _log = new(output);
    private MeshNode _node = null!;

    private DnsEndPoint Address => new(_node.Self.Host, _node.Self.Port);

    public async Task InitializeAsync() => _node = await StartAsync("provider");

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
            await node.DisposeAsync();
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task A_request_to_a_hosted_service_must_get_its_response()
    {
        await _node.AddService<Quote, Price>("quote", (quote, _, _) => new ValueTask<Price>(new Price(quote.Sym, 101.5))).Ready;

        var response = await CallAsync(Address, [PatientReq(1, "quote", """{"sym":"ABC"}""")]);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal(["""res 1 {"sym":"ABC","px":101.5}"""], response.Frames.Select(Describe));
    }

    [Fact]
    public async Task Requests_must_be_answered_in_the_order_they_complete_each_with_its_id()
    {
        var fastAnswered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _node.AddService<int, int>("slow", async (x, _, _) =>
        {
            // The fast handler has returned, and its answer and the ping's have been written (nobody else talks to the
            // node): only now does the slow one complete.
            await fastAnswered.Task;
            await Conditions.AwaitConditionAsync(() => _node.PeerTotals.FramesSent >= 2, TestTimeouts.Default);
            return x;
        }).Ready;
        await _node.AddService<int, int>("fast", (x, _, _) =>
        {
            fastAnswered.SetResult();
            return new ValueTask<int>(x);
        }).Ready;

        var response = await CallAsync(Address, [PatientReq(1, "slow", "10"), PatientReq(2, "fast", "20"), PatientReq(3, "$ping")]);

        // The slow one can only complete after the fast one; the ping, answered by the read loop, at any moment.
        var answers = response.Frames.Select(Describe).ToList();
        Assert.Equal(["res 1 10", "res 2 20", "res 3 null"], answers.Order());
        Assert.True(answers.IndexOf("res 2 20") < answers.IndexOf("res 1 10"), string.Join(", ", answers));
    }

    [Fact]
    public async Task A_failing_handler_must_give_err_handler_error_with_the_exception_type_and_message()
    {
        await _node.AddService<Quote, Price>("quote", (_, _, _) => throw new KeyNotFoundException("no quote for XYZ")).Ready;

        var response = await CallAsync(Address, [PatientReq(2, "quote", """{"sym":"XYZ"}""")]);

        var err = Assert.IsType<Envelope.Err>(Assert.Single(response.Frames));
        Assert.Equal(new Envelope.Err(ErrorCodes.HandlerError, "no quote for XYZ") { Id = 2, ExceptionType = "System.Collections.Generic.KeyNotFoundException" }, err);
    }

    [Fact]
    public async Task A_request_for_a_service_the_node_does_not_host_must_get_no_service()
    {
        var response = await CallAsync(Address, [PatientReq(1, "nobody")]);

        Assert.Equal(["err no_service 1"], response.Frames.Select(Describe));
    }

    [Fact]
    public async Task A_request_without_timeout_ms_must_get_err_timeout_after_the_default_and_its_handler_be_cancelled()
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _node.AddService<int, int>("stuck", async (_, _, token) =>
        {
            token.Register(cancelled.SetResult);
            await Task.Delay(Timeout.Infinite, token);
            return 0;
        }).Ready;
        var watch = Stopwatch.StartNew();

        var response = await CallAsync(Address, [Req(4, "stuck", "1")]);

        Assert.Equal(["err timeout 4"], response.Frames.Select(Describe));
        // Timers and the stopwatch tick differently: a few milliseconds early is still the default's deadline.
        Assert.True(watch.Elapsed >= DefaultTimeout - TimeSpan.FromMilliseconds(20), $"answered after {watch.Elapsed}");
        await cancelled.Task.WithTimeout();
        await AwaitConditionAsync(() => _node.MessagingLayer.Inbound.Count == 0, TestTimeouts.Default);
    }

    [Fact]
    public async Task A_pub_must_reach_the_topic_subscribers_from_the_caller_its_hello_names()
    {
        var received = new TaskCompletionSource<(Price, MessageContext)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _node.Subscribe<Price>("prices", (price, context) =>
        {
            received.TrySetResult((price, context));
            return default;
        }).Ready;

        var response = await CallAsync(Address, [Hello("0b6f4a52", "pricing"), Pub("prices", """{"sym":"ABC","px":101.5}""")]);

        Assert.Empty(response.Frames);
        var (price, context) = await received.Task.WithTimeout();
        Assert.Equal(new Price("ABC", 101.5), price);
        Assert.Equal(("0b6f4a52", "pricing"), (context.SenderId, context.SenderName));
    }

    [Fact]
    public async Task A_raw_frame_of_a_plain_call_must_reach_the_channel_topic()
    {
        var received = new TaskCompletionSource<TopicMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _node.Subscribe(IMesh.ChannelTopic, message =>
        {
            received.TrySetResult(message);
            return default;
        }).Ready;

        var response = await CallAsync(Address, [Frame("""{"message":"Message from Node #0"}""")], versions: null, name: "marketrix");

        Assert.Null(response.Version);
        Assert.Empty(response.Frames);
        var message = await received.Task.WithTimeout();
        Assert.Equal("""{"message":"Message from Node #0"}""", Text(message.Data));
        Assert.Equal("marketrix", message.SenderName);
    }

    [Fact]
    public async Task A_caller_whose_hello_names_a_connected_peer_must_not_disturb_that_peers_requests()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _node.AddService<int, int>("slow", async (x, _, _) =>
        {
            await release.Task;
            return x;
        }).Ready;
        await _node.AddService<int, int>("fast", (x, _, _) => new ValueTask<int>(x)).Ready;
        var peer = await StartAsync("peer");
        await AwaitConditionAsync(() => peer.MessagingLayer.Routes.Current.Service("slow") is not null, TestTimeouts.Default);
        var slow = peer.RequestAsync<int, int>("slow", 7);
        await AwaitConditionAsync(() => _node.MessagingLayer.Inbound.Count == 1, TestTimeouts.Default);

        // The peer's own request has one of the first ids; the call reuses them, as the node id its hello names.
        var response = await CallAsync(Address, [Hello(peer.Id, "peer"), PatientReq(1, "fast", "1"), PatientReq(2, "fast", "2"), PatientReq(3, "fast", "3")]);
        release.SetResult();

        Assert.Equal(["res 1 1", "res 2 2", "res 3 3"], response.Frames.Select(Describe).Order());
        Assert.Equal(7, await slow.WithTimeout());
    }

    [Fact]
    public async Task Curl_must_call_a_service_over_http2_with_prior_knowledge()
    {
        await _node.AddService<int, int>("echo", (x, _, _) => new ValueTask<int>(x)).Ready;
        var body = Path.Combine(Path.GetTempPath(), $"unary-{Guid.NewGuid():N}.bin");
        await File.WriteAllBytesAsync(body, PatientReq(1, "echo", "42"));
        try
        {
            var start = new ProcessStartInfo("curl")
            {
                ArgumentList = { "-sS", "--http2-prior-knowledge", "-H", "x-service-name: curl", "-H", "x-mesh-protocol: 1", "--data-binary", "@" + body, $"http://127.0.0.1:{Address.Port}/unary" },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var curl = Process.Start(start)!;
            using var stdout = new MemoryStream();
            var errors = curl.StandardError.ReadToEndAsync();
            await curl.StandardOutput.BaseStream.CopyToAsync(stdout).WithTimeout();
            await curl.WaitForExitAsync().WithTimeout();

            Assert.True(curl.ExitCode == 0, await errors);
            Assert.Equal(["res 1 42"], Decode(stdout.ToArray()).Select(Describe));
        }
        finally
        {
            File.Delete(body);
        }
    }

    private async Task<MeshNode> StartAsync(string name)
    {
        var node = await MeshNode.StartAsync(new MeshOptions
        {
            NodeName = name,
            Discovery = new DiscoveryOptions { Registry = "local:" + _root, HeartbeatInterval = TimeSpan.FromMilliseconds(250), Ttl = TimeSpan.FromSeconds(2) },
            Peers = new PeerOptions { UnaryRequestTimeout = DefaultTimeout },
            LoggerFactory = _log,
        });
        _nodes.Add(node);
        return node;
    }

    private sealed record Quote(string Sym);

    private sealed record Price(string Sym, double Px);
}
