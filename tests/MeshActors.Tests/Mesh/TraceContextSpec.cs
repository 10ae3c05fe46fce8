using System.Diagnostics;
using System.Text;
using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Messaging;
using MeshActors.Protocol;
using MeshActors.Tests.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Mesh;

using MeshActors.TestKit;

/// <summary>
/// Trace context and counters as docs/architecture.md (Tracing, Metrics) and docs/protocol.md 5.2 describe them, over
/// real nodes on loopback HTTP/2 and the local-directory registry.
/// </summary>
public sealed class TraceContextSpec(ITestOutputHelper output) : TestKit(output), IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "meshactors-observe-" + Guid.NewGuid().ToString("N"));
    private readonly List<MeshNode> _nodes = [];
    private readonly TestLog _log = new(output);
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
            await node.DisposeAsync();
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    // docs/architecture.md, Tracing: "a server span of the same name around its handler", and "Actors that receive ...
    // ServiceRequest directly find the context in their TraceParent". For a service hosted by an actor, the node starts
    // the server span around the actor's handling (ServiceActor), but the ServiceRequest the actor gets carries the
    // *client's* traceparent: whatever the actor traces becomes a sibling of the server span, never its child, and the
    // server span cannot be reached from the actor at all.
    [Fact]
    public async Task A_service_actor_must_find_the_server_span_that_wraps_its_handling_in_the_requests_TraceParent()
    {
        var service = "actor-traced-" + _suffix;
        using var spans = new MeshSpans(span => span.GetTagItem("rpc.service") as string == service);
        var a = await Start("caller");
        var b = await Start("provider", system: Sys);
        var handler = CreateTestProbe();
        b.Services.Tell(new HostService(service, handler.Ref));
        ExpectMsg<ServiceHosted>();
        await AwaitConditionAsync(() => a.MessagingLayer.Routes.Current.Service(service) is not null, TestTimeouts.Default, message: "the service announced");

        var call = a.RequestAsync<int, int>(service, 1);
        var request = handler.ExpectMsg<ServiceRequest>();
        handler.Reply(1);
        Assert.Equal(1, await call.WithTimeout());

        await AwaitConditionAsync(
            () => spans.EndedOf(ActivityKind.Server) is not null && spans.EndedOf(ActivityKind.Client) is not null, TestTimeouts.Default, message: "both spans ended");
        var (client, server) = (spans.EndedOf(ActivityKind.Client)!, spans.EndedOf(ActivityKind.Server)!);
        Assert.Equal(client.SpanId, server.ParentSpanId); // the server span itself continues the caller's trace
        var seen = ActivityContext.Parse(request.TraceParent!, request.TraceState);
        Assert.True(
            seen.SpanId == server.SpanId,
            $"the handler actor was given span {seen.SpanId} as its parent: the client span is {client.SpanId}, the server span around the handler is {server.SpanId}");
    }

    // docs/protocol.md 5.2: "A trace that is not a valid traceparent (55 characters of the form
    // vv-<32 hex trace id>-<16 hex span id>-<2 hex flags>, ...) is ignored, never an error: the message is delivered as if
    // it had none." The decoder checks the length and hands the rest to ActivityContext.TryParse, which does not look at
    // the three separators: a 55-character value with other characters in their place is kept, and handed on to
    // actors and handlers as their TraceParent.
    [Theory]
    [InlineData("00_0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331_01")]
    [InlineData("00x0af7651916cd43dd8448eb211c80319cxb7ad6b7169203331x01")]
    public void A_trace_whose_separators_are_not_dashes_must_be_ignored_as_not_a_traceparent(string trace)
    {
        var decoder = new EnvelopeDecoder();

        var pub = Assert.IsType<Envelope.Pub>(decoder.Decode(Encoding.UTF8.GetBytes($"{{\"t\":\"pub\",\"topic\":\"a\",\"trace\":\"{trace}\",\"data\":1}}").AsSpan()));
        var req = Assert.IsType<Envelope.Req>(decoder.Decode(Encoding.UTF8.GetBytes($"{{\"t\":\"req\",\"id\":1,\"service\":\"s\",\"trace\":\"{trace}\"}}").AsSpan()));

        Assert.Null(pub.Trace);
        Assert.Null(req.Trace);
    }

    private async Task<MeshNode> Start(string name, ActorSystem? system = null, MessagingOptions? messaging = null)
    {
        var node = new MeshNode(
            new MeshOptions
            {
                NodeName = name,
                Discovery = new DiscoveryOptions { Registry = "local:" + _root, HeartbeatInterval = TimeSpan.FromMilliseconds(250), Ttl = TimeSpan.FromSeconds(2) },
                Messaging = messaging ?? new MessagingOptions(),
                LoggerFactory = _log,
            },
            system);
        _nodes.Add(node);
        await node.StartAsync();
        return node;
    }
}
