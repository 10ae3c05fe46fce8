using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using MeshActors.Messaging;
using MeshActors.Testing;
using Xunit.Abstractions;

namespace MeshActors.Tests.Mesh;

/// <summary>The mesh over the local-directory registry, in a directory of the test's own.</summary>
public sealed class LocalMeshSpec(ITestOutputHelper output) : MeshContract(output)
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "meshactors-mesh-" + Guid.NewGuid().ToString("N"));

    protected override string RegistrySetting => "local:" + _root;

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    // Option checks do not depend on the registry either.
    [Theory]
    [InlineData("orders*")]
    [InlineData("eu/orders")]
    [InlineData("orders\tv2")]
    public async Task A_node_name_the_registry_cannot_hold_must_fail_the_start_instead_of_leaving_a_node_that_never_registers(string name)
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => MeshNode.StartAsync(new MeshOptions
        {
            NodeName = name,
            Discovery = new() { Registry = RegistrySetting },
        }));

        Assert.Contains("MeshOptions.NodeName", ex.Message);
    }

    [Fact]
    public async Task A_node_whose_registry_is_unreachable_must_start_unjoined_and_its_Joined_must_be_cancelled_when_it_stops()
    {
        var node = await MeshNode.StartAsync(new MeshOptions { NodeName = "alone", Discovery = new() { Registry = "redis://127.0.0.1:1" } });

        Assert.False(node.Joined.IsCompleted);
        await node.StopAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => node.Joined);
    }

    // Metrics do not depend on the registry, so they are specified once, here.
    [Fact]
    public async Task A_node_must_report_its_counters_as_metrics_tagged_with_its_id_until_it_stops()
    {
        var a = await Start("a");
        var b = await Start("b");
        await WaitConnected(a, b);
        await AwaitConditionAsync(() => a.Members.Count == 1, TestTimeouts.Default, message: "a to see b in the registry");
        using var received = new CountdownEvent(10);
        await b.Subscribe<int>("ticks", (_, _) =>
        {
            received.Signal();
            return default;
        }).Ready;
        await a.WaitForSubscriberAsync("ticks", TestTimeouts.Default);
        for (var i = 0; i < 10; i++)
            await a.PublishAsync("ticks", i);
        Assert.True(received.Wait(TestTimeouts.Default), $"{received.CurrentCount} of 10 messages missing");
        using var metrics = new MeshMeterListener();

        var measured = metrics.Collect();

        Assert.InRange(measured[(a.Id, "meshactors.peer.frames", "transmit")], 10, long.MaxValue);
        Assert.InRange(measured[(b.Id, "meshactors.peer.frames", "receive")], 10, long.MaxValue);
        Assert.InRange(measured[(b.Id, "meshactors.peer.bytes", "receive")], 10 * 4, long.MaxValue);
        Assert.Equal(1, measured[(a.Id, "meshactors.peers.connected", null)]);
        Assert.Equal(1, measured[(a.Id, "meshactors.members", null)]);
        Assert.Equal(0, measured[(a.Id, "meshactors.peer.dropped", null)]);
        Assert.Equal(0, measured[(b.Id, "meshactors.messaging.subscriber_failures", null)]);

        await a.StopAsync();

        Assert.DoesNotContain(metrics.Collect().Keys, key => key.Node == a.Id);
    }

    [Fact]
    public async Task A_request_and_a_publish_must_continue_their_traces_on_the_receiving_node()
    {
        var (service, topic) = ("traced-" + Prefix, "traced-" + Prefix);
        using var spans = new MeshSpans(span => span.GetTagItem("rpc.service") as string == service || span.GetTagItem("messaging.destination.name") as string == topic);
        var a = await Start("a");
        var b = await Start("b");
        await b.AddService<int, int>(service, (x, _, _) => new ValueTask<int>(x)).Ready;
        using var processed = new CountdownEvent(1);
        await b.Subscribe<int>(topic, (_, _) =>
        {
            processed.Signal();
            return default;
        }).Ready;
        await a.WaitForSubscriberAsync(topic, TestTimeouts.Default);
        await AwaitConditionAsync(() => a.MessagingLayer.Routes.Current.Service(service) is not null, TestTimeouts.Default, message: "the service announced");

        Assert.Equal(7, await a.RequestAsync<int, int>(service, 7));
        await a.PublishAsync(topic, 1);
        Assert.True(processed.Wait(TestTimeouts.Default));

        // Each span ends after its handler has run: the consumer's may still be ending when the callback returned.
        ActivityKind[] kinds = [ActivityKind.Client, ActivityKind.Server, ActivityKind.Producer, ActivityKind.Consumer];
        await AwaitConditionAsync(() => kinds.All(kind => spans.EndedOf(kind) is not null), TestTimeouts.Default, message: "a span of each kind");
        var (client, server) = (spans.EndedOf(ActivityKind.Client)!, spans.EndedOf(ActivityKind.Server)!);
        Assert.Equal((client.TraceId, client.SpanId), (server.TraceId, server.ParentSpanId));
        var (producer, consumer) = (spans.EndedOf(ActivityKind.Producer)!, spans.EndedOf(ActivityKind.Consumer)!);
        Assert.Equal((producer.TraceId, producer.SpanId), (consumer.TraceId, consumer.ParentSpanId));
    }

    [Fact]
    public async Task The_applications_own_trace_and_its_state_must_reach_actors_on_the_receiving_node()
    {
        var a = await Start("a");
        var b = await Start("b", system: Sys);
        var (service, topic) = ("app-traced-" + Prefix, "app-traced-" + Prefix);
        var handler = CreateTestProbe();
        var subscriber = CreateTestProbe();
        b.Services.Tell(new HostService(service, handler.Ref));
        ExpectMsg<ServiceHosted>();
        b.TopicRouter.Tell(new Subscribe(topic, subscriber.Ref));
        ExpectMsg<SubscribeAck>();
        await a.WaitForSubscriberAsync(topic, TestTimeouts.Default);
        await AwaitConditionAsync(() => a.MessagingLayer.Routes.Current.Service(service) is not null, TestTimeouts.Default, message: "the service announced");
        using var application = new Activity("application work").Start();
        application.TraceStateString = "vendor=opaque";

        var call = a.RequestAsync<int, int>(service, 1);
        await a.PublishAsync(topic, 2);

        // The same trace whether or not something listens to MeshActors' own spans (another test may, meanwhile).
        var request = handler.ExpectMsg<ServiceRequest>();
        handler.Reply(1);
        Assert.Equal(1, await call.WithTimeout());
        Assert.Equal(application.TraceId, ActivityContext.Parse(request.TraceParent!, null).TraceId);
        Assert.Equal("vendor=opaque", request.TraceState);
        var message = subscriber.ExpectMsg<TopicMessage>();
        Assert.Equal(application.TraceId, ActivityContext.Parse(message.TraceParent!, null).TraceId);
        Assert.Equal("vendor=opaque", message.TraceState);
    }
}
