using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using MeshActors.Discovery;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.TestKit;
using MeshActors.Tests.Transport;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace MeshActors.Tests.Mesh;

/// <summary>
/// What the node tells monitoring (docs/architecture.md, Metrics and Tracing), over real nodes on loopback HTTP/2 and
/// the local-directory registry: its instruments while and only while it runs, and its spans' outcome.
/// </summary>
public sealed class TelemetrySpec(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "meshactors-telemetry-" + Guid.NewGuid().ToString("N"));
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

    // "They exist while the node runs" holds for a node's own meter; a host's IMeterFactory hands out meters whose
    // Dispose does nothing (the factory owns them), so the node's instruments, and the node they read, outlive it.
    [Fact]
    public async Task A_node_on_a_meter_factory_must_withdraw_its_instruments_when_it_stops()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        var a = await Start("measured", meterFactory: factory);
        using var metrics = new MeshMeterListener();
        Assert.Contains(metrics.Collect().Keys, key => key.Node == a.Id);

        await a.StopAsync();

        var left = metrics.Collect().Keys.Where(key => key.Node == a.Id).Select(key => key.Instrument).Distinct().ToList();
        Assert.True(left.Count == 0, $"stopped node {a.Id} still reports {left.Count} instruments: {string.Join(", ", left)}");
    }

    // docs/architecture.md, Tracing: "a failure sets the span's status to error with error.type". A publish that throws
    // (here PeerQueueFullException under the Fail overflow policy) ends its producer span with status Unset.
    [Fact]
    public async Task A_publish_that_fails_must_end_its_producer_span_with_error_status()
    {
        var topic = "stalled-" + Guid.NewGuid().ToString("N")[..8];
        using var spans = new MeshSpans(span => span.Kind == ActivityKind.Producer && span.GetTagItem("messaging.destination.name") as string == topic);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var a = await Start("publisher", peers: new PeerOptions { OverflowPolicy = PeerOverflowPolicy.Fail, OutboundQueueCapBytes = 64 * 1024 });
        var b = await Start("stalled", messaging: new MessagingOptions { SubscriberBacklogLimit = 2 });
        try
        {
            // b's callback never finishes, so b soon stops reading the channel: a's queue, capped at 64 KiB, refuses a publish.
            await b.Subscribe<int>(topic, async (_, _) => await gate.Task).Ready;
            await a.WaitForSubscriberAsync(topic, TestTimeouts.Default);
            var attachment = new byte[256 * 1024];

            PeerQueueFullException? failure = null;
            for (var i = 0; i < 10_000 && failure is null; i++)
            {
                try
                {
                    await a.PublishAsync(topic, i, attachment).WithTimeout();
                }
                catch (PeerQueueFullException ex)
                {
                    failure = ex;
                }
            }

            Assert.NotNull(failure);
            var failed = spans.Ended.Last(); // publishes run one after the other: the last span is the failed one's
            Assert.Equal(ActivityStatusCode.Error, failed.Status);
            Assert.Equal(typeof(PeerQueueFullException).FullName, failed.GetTagItem("error.type"));
        }
        finally
        {
            gate.TrySetResult();
        }
    }

    // meshactors.peer.frames is "frames to and from peers" in {frame}: the receiver counts an attachment as a frame of
    // its own (it is one on the wire), the sender counts the envelope and its attachment as one.
    [Fact]
    public async Task The_frames_a_node_transmits_must_count_attachment_frames_as_the_receiver_does()
    {
        // No heartbeats during the test: every frame between the two readings is one of the publishes'.
        var quiet = new PeerOptions { HeartbeatInterval = TimeSpan.FromMinutes(1), LivenessTimeout = TimeSpan.FromMinutes(10) };
        var topic = "framed-" + Guid.NewGuid().ToString("N")[..8];
        var a = await Start("sender", peers: quiet);
        var b = await Start("receiver", peers: quiet);
        using var received = new CountdownEvent(10);
        await b.Subscribe<int>(topic, (_, _) =>
        {
            received.Signal();
            return default;
        }).Ready;
        await a.WaitForSubscriberAsync(topic, TestTimeouts.Default);
        // Totals since the nodes started: a talks to b only, so all a wrote is what b reads (its interest included).
        using var metrics = new MeshMeterListener();
        long Sent(Dictionary<(string Node, string Instrument, string? Direction), long> measured) => measured[(a.Id, "meshactors.peer.frames", "transmit")];
        long Read(Dictionary<(string Node, string Instrument, string? Direction), long> measured) => measured[(b.Id, "meshactors.peer.frames", "receive")];

        for (var i = 0; i < 10; i++)
            await a.PublishAsync(topic, i, new byte[100]);

        Assert.True(received.Wait(TestTimeouts.Default), $"{received.CurrentCount} of 10 messages missing");
        await Conditions.AwaitConditionAsync(() => Read(metrics.Collect()) >= 20, TestTimeouts.Default, message: "b to count 10 envelopes and 10 attachment frames");
        long sent = 0, read = 0;
        try
        {
            // a counts what it wrote once its flush returns, which may be a moment after b has read it.
            await Conditions.AwaitConditionAsync(
                () =>
                {
                    var measured = metrics.Collect();
                    (sent, read) = (Sent(measured), Read(measured));
                    return sent >= read;
                },
                TestTimeouts.Scaled(TimeSpan.FromSeconds(5)));
        }
        catch (Exception) when (sent < read)
        {
            // Reported below with the figures.
        }

        // At least as many: a may have written a control frame that b has not read yet, never fewer than b read.
        Assert.True(sent >= read, $"a transmitted {sent} frames to b, b received {read} from a (10 envelopes, each with an attachment frame)");
    }

    private async Task<MeshNode> Start(string name, MessagingOptions? messaging = null, PeerOptions? peers = null, IMeterFactory? meterFactory = null)
    {
        var node = await MeshNode.StartAsync(new MeshOptions
        {
            NodeName = name,
            Discovery = new DiscoveryOptions { Registry = "local:" + _root, HeartbeatInterval = TimeSpan.FromMilliseconds(250), Ttl = TimeSpan.FromSeconds(2) },
            Messaging = messaging ?? new MessagingOptions(),
            Peers = peers ?? new PeerOptions(),
            LoggerFactory = _log,
            MeterFactory = meterFactory,
        });
        _nodes.Add(node);
        return node;
    }
}
