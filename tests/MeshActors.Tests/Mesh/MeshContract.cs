using System.Collections.Concurrent;
using System.Diagnostics;
using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Tests.Messaging;
using MeshActors.Tests.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Mesh;

using MeshActors.TestKit;

/// <summary>
/// Several real nodes in one process: real HTTP/2 channels on loopback, real discovery (each backend runs this
/// contract), the real peer layer. Topics, groups, services, errors, cancellation, retries, balancing, actor-level use.
/// </summary>
public abstract class MeshContract(ITestOutputHelper output) : TestKit(output), IAsyncLifetime
{
    private readonly List<MeshNode> _nodes = [];

    /// <summary>The <see cref="DiscoveryOptions.Registry"/> setting every node of the test shares.</summary>
    protected abstract string RegistrySetting { get; }

    /// <summary>Keeps tests apart in a shared registry.</summary>
    protected string Prefix { get; } = "spec-" + Guid.NewGuid().ToString("N")[..8];

    private protected TestLog Log { get; } = new(output);

    public Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var node in _nodes)
            await node.DisposeAsync();
    }

    [Fact]
    public async Task Publish_must_fan_out_to_subscribers_on_every_node()
    {
        var (a, b, c) = await Mesh3();
        var atA = Collect<Price>(a, "prices");
        var atB = Collect<Price>(b, "prices");
        var atC = Collect<Price>(c, "prices");
        await Task.WhenAll(atA.Ready, atB.Ready, atC.Ready);
        await WaitForNodes(a, "prices", 3);

        await a.PublishAsync("prices", new Price("ABC", 1));

        foreach (var collector in new[] { atA, atB, atC })
            Assert.Equal(new Price("ABC", 1), await collector.NextAsync());
        Assert.Equal(a.Id, atC.Contexts.Single().SenderId);
    }

    [Fact]
    public async Task A_typed_message_must_carry_its_attachment_to_every_subscriber()
    {
        var (a, b, _) = await Mesh3();
        var atA = Collect<Price>(a, "charts");
        var atB = Collect<Price>(b, "charts");
        await Task.WhenAll(atA.Ready, atB.Ready);
        await WaitForNodes(a, "charts", 2);
        byte[] png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

        await a.PublishAsync("charts", new Price("ABC", 1), png);

        foreach (var collector in new[] { atA, atB })
        {
            Assert.Equal(new Price("ABC", 1), await collector.NextAsync());
            Assert.Equal(png, collector.Contexts.Single().Attachment.ToArray());
        }

        await Assert.ThrowsAsync<ArgumentException>(() => a.PublishAsync("charts", png, png).AsTask());
    }

    [Fact]
    public async Task Nodes_with_the_same_name_must_share_messages_while_distinct_groups_each_get_all()
    {
        var publisher = await Start("publisher");
        var worker1 = await Start("workers");
        var worker2 = await Start("workers");
        var audit = await Start("audit");
        var counts = new ConcurrentDictionary<string, int>();
        var deliveries = new CountdownEvent(200);
        foreach (var node in new[] { worker1, worker2, audit })
        {
            await node.Subscribe<int>("jobs", (_, _) =>
            {
                counts.AddOrUpdate(node.Id, 1, (_, n) => n + 1);
                deliveries.Signal();
                return default;
            }).Ready;
        }

        await WaitForNodes(publisher, "jobs", 3);

        for (var i = 0; i < 100; i++)
            await publisher.PublishAsync("jobs", i);

        Assert.True(deliveries.Wait(TestTimeouts.Default), $"{200 - deliveries.CurrentCount} of 200 deliveries");
        Assert.Equal(100, counts[audit.Id]);
        Assert.Equal(50, counts[worker1.Id]);
        Assert.Equal(50, counts[worker2.Id]);
    }

    [Fact]
    public async Task Unsubscribing_must_stop_delivery_to_that_node()
    {
        var (a, b, c) = await Mesh3();
        var atB = Collect<int>(b, "t");
        var atC = Collect<int>(c, "t");
        await Task.WhenAll(atB.Ready, atC.Ready);
        await WaitForNodes(a, "t", 2);

        atB.Subscription.Dispose();
        await WaitForNodes(a, "t", 1);
        await a.PublishAsync("t", 7);

        Assert.Equal(7, await atC.NextAsync());
        Assert.Empty(atB.Received);
    }

    [Fact]
    public async Task A_late_subscriber_must_start_receiving_within_a_round_trip()
    {
        var (a, b, _) = await Mesh3();
        var rtt = await a.PingAsync(b.Id);
        using var stop = new CancellationTokenSource();
        var publishing = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
                await a.PublishAsync("ticks", i);
        });

        var first = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscribed = Stopwatch.GetTimestamp();
        using var subscription = b.Subscribe<int>("ticks", (_, _) =>
        {
            first.TrySetResult(Stopwatch.GetTimestamp());
            return default;
        });
        await subscription.Ready;
        var arrived = await first.Task.WithTimeout();
        await stop.CancelAsync();
        await publishing;

        var latency = Stopwatch.GetElapsedTime(subscribed, arrived);
        Output!.WriteLine($"first message {latency.TotalMilliseconds:0.0} ms after subscribing; ping {rtt.TotalMilliseconds:0.000} ms");
        Assert.True(latency < TestTimeouts.Scaled(TimeSpan.FromSeconds(1)), $"took {latency}");
    }

    [Fact]
    public async Task Messages_from_each_sender_must_arrive_in_order_under_load()
    {
        const int Count = 50_000;
        var (a, b, c) = await Mesh3();
        var received = new ConcurrentDictionary<string, List<int>>();
        var done = new CountdownEvent(2 * Count);
        await c.Subscribe<int>("seq", (n, context) =>
        {
            received.GetOrAdd(context.SenderId, _ => []).Add(n); // one message at a time per subscription
            done.Signal();
            return default;
        }).Ready;
        await WaitForNodes(a, "seq", 1);
        await WaitForNodes(b, "seq", 1);

        await Task.WhenAll(Publish(a), Publish(b));

        Assert.True(done.Wait(TestTimeouts.Long), $"{2 * Count - done.CurrentCount} of {2 * Count} arrived");
        Assert.Equal(Enumerable.Range(0, Count), received[a.Id]);
        Assert.Equal(Enumerable.Range(0, Count), received[b.Id]);

        static Task Publish(MeshNode node) => Task.Run(async () =>
        {
            for (var i = 0; i < Count; i++)
                await node.PublishAsync("seq", i);
        });
    }

    [Fact]
    public async Task A_slow_subscriber_must_hold_its_publisher_back_and_lose_nothing()
    {
        const int Limit = 100, Count = 1_000_000;
        var a = await Start("a");
        var b = await Start("b", messaging: new MessagingOptions { SubscriberBacklogLimit = Limit });
        await WaitConnected(a, b);
        var gate = new TaskCompletionSource();
        var received = new ConcurrentQueue<int>();
        await b.Subscribe<int>("slow", async (n, _) =>
        {
            await gate.Task;
            received.Enqueue(n);
        }).Ready;
        await WaitForNodes(a, "slow", 1);

        var publishing = Task.Run(async () =>
        {
            for (var i = 0; i < Count; i++)
                await a.PublishAsync("slow", i);
        });

        // Held back, b stops reading: its intake stalls far short of what a has to send. Unbounded, it would take all.
        long intake = -1;
        await AwaitConditionAsync(
            () =>
            {
                var now = b.DescribePeers().Single(peer => peer.NodeId == a.Id).Stats.FramesReceived;
                var stalled = now == intake && b.Stats.SubscribersBehind >= 1;
                intake = now;
                return stalled;
            },
            TestTimeouts.Long,
            interval: TimeSpan.FromMilliseconds(250),
            message: "b's intake from a to stall");
        Assert.InRange(intake, Limit, Count / 2);
        Assert.False(publishing.IsCompleted);

        gate.SetResult();
        await publishing.WaitAsync(TestTimeouts.Long);
        await AwaitConditionAsync(() => received.Count == Count, TestTimeouts.Long, message: $"all {Count} messages delivered");
        Assert.Equal(Enumerable.Range(0, Count), received);
    }

    [Fact]
    public async Task A_subscriber_held_back_longer_than_the_liveness_timeout_must_keep_its_channel_and_lose_nothing()
    {
        const int Count = 2_000;
        var peers = new PeerOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(100), LivenessTimeout = TimeSpan.FromMilliseconds(500) };
        var a = await Start("a", peers: peers);
        var b = await Start("b", messaging: new MessagingOptions { SubscriberBacklogLimit = 10 }, peers: peers);
        await WaitConnected(a, b);
        var gate = new TaskCompletionSource();
        var received = 0;
        await b.Subscribe<int>("held", async (_, _) =>
        {
            await gate.Task;
            Interlocked.Increment(ref received);
        }).Ready;
        await WaitForNodes(a, "held", 1);
        var publishing = Task.Run(async () =>
        {
            for (var i = 0; i < Count; i++)
                await a.PublishAsync("held", i);
        });
        await AwaitConditionAsync(() => b.Stats.SubscribersBehind >= 1, TestTimeouts.Default, message: "b to hold its channel back");

        // While b does not read, a hears only b's pings: ten of them span twice a's liveness timeout.
        var heard = PeerFrom(a, b).Stats.FramesReceived;
        await AwaitConditionAsync(() => PeerFrom(a, b).Stats.FramesReceived >= heard + 10, TestTimeouts.Default, message: "a to hear b's pings");
        gate.SetResult();

        await publishing.WaitAsync(TestTimeouts.Long);
        await AwaitConditionAsync(() => Volatile.Read(ref received) == Count, TestTimeouts.Long, message: $"all {Count} messages delivered");
        Assert.Equal(0, PeerFrom(a, b).Stats.LivenessTimeouts);
        Assert.Equal(0, PeerFrom(b, a).Stats.LivenessTimeouts);
    }

    [Fact]
    public async Task A_node_that_stops_right_after_publishing_must_first_send_what_it_queued()
    {
        const int Count = 100_000;
        var a = await Start("a");
        var b = await Start("b");
        await WaitConnected(a, b);
        var received = 0;
        await b.Subscribe<int>("last-words", (_, _) =>
        {
            Interlocked.Increment(ref received);
            return default;
        }).Ready;
        await WaitForNodes(a, "last-words", 1);

        for (var i = 0; i < Count; i++)
            await a.PublishAsync("last-words", i);
        await a.DisposeAsync();

        await AwaitConditionAsync(() => Volatile.Read(ref received) == Count, TestTimeouts.Long, message: $"all {Count} messages delivered");
    }

    [Fact]
    public async Task A_request_must_be_answered_by_a_remote_provider()
    {
        var (a, b, _) = await Mesh3();
        await b.AddService<Quote, Price>("quote", (q, context, _) => new ValueTask<Price>(new Price(q.Symbol, context.SenderName == a.Self.Name ? 101.5 : -1))).Ready;
        await WaitForProviders(a, "quote", 1);

        Assert.Equal(new Price("ABC", 101.5), await a.RequestAsync<Quote, Price>("quote", new Quote("ABC")));
        // A null or default third argument is the options of this overload, not an attachment (this must compile).
        Assert.Equal(new Price("XYZ", 101.5), await a.RequestAsync<Quote, Price>("quote", new Quote("XYZ"), null));
        Assert.Equal(new Price("XYZ", 101.5), await a.RequestAsync<Quote, Price>("quote", new Quote("XYZ"), default));
    }

    [Fact]
    public async Task A_request_must_carry_its_attachment_to_a_remote_provider_and_its_response_attachment_back()
    {
        var a = await Start("a");
        var b = await Start("b");
        await WaitConnected(a, b);
        await b.AddService<Quote, byte[]>("thumbnail", (q, context, _) =>
            new ValueTask<byte[]>([.. System.Text.Encoding.UTF8.GetBytes(q.Symbol), .. context.Attachment.Span[..4]])).Ready;
        await WaitForProviders(a, "thumbnail", 1);
        byte[] png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
        byte[] expected = [(byte)'A', (byte)'B', (byte)'C', 0x89, 0x50, 0x4e, 0x47];

        var response = await a.RequestAsync<Quote, ServiceResponse>("thumbnail", new Quote("ABC"), png, options: null);

        Assert.Equal(expected, response.Attachment.ToArray());
        Assert.Equal(b.Id, response.SenderId);
        Assert.Equal(expected, await a.RequestAsync<Quote, byte[]>("thumbnail", new Quote("ABC"), png, options: null));
        await Assert.ThrowsAsync<ArgumentException>(() => a.RequestAsync<byte[], ServiceResponse>("thumbnail", png, png, options: null));
        await Assert.ThrowsAsync<ArgumentException>(() => a.RequestAsync<byte[], ServiceResponse>("thumbnail", [], png, options: null)); // binary, if empty
    }

    [Fact]
    public async Task A_handler_must_answer_with_JSON_and_an_attachment_together_and_the_caller_read_both()
    {
        var a = await Start("a");
        var b = await Start("b", system: Sys);
        await WaitConnected(a, b);
        byte[] png = [0x89, 0x50, 0x4e, 0x47];
        await b.AddService<Quote, ServiceReply>("thumbnail", (q, _, _) =>
            new ValueTask<ServiceReply>(new ServiceReply(new Price(q.Symbol, png.Length)) { Attachment = png })).Ready;
        var handler = CreateTestProbe();
        b.Services.Tell(new HostService("thumbnail-actor", handler.Ref));
        ExpectMsg<ServiceHosted>();
        await WaitForProviders(a, "thumbnail", 1);
        await WaitForProviders(a, "thumbnail-actor", 1);

        var typed = await a.RequestAsync<Quote, ServiceResponse>("thumbnail", new Quote("ABC"));
        var fromActor = a.RequestAsync<Quote, ServiceResponse>("thumbnail-actor", new Quote("XYZ"));
        var request = handler.ExpectMsg<ServiceRequest>();
        handler.Reply(new ServiceReply(new Price(request.Deserialize<Quote>().Symbol, 1)) { Attachment = png[..1] });

        Assert.Equal(new Price("ABC", 4), typed.Deserialize<Price>());
        Assert.Equal(png, typed.Attachment.ToArray());
        var answered = await fromActor.WithTimeout();
        Assert.Equal(new Price("XYZ", 1), answered.Deserialize<Price>());
        Assert.Equal(png[..1], answered.Attachment.ToArray());
    }

    [Fact]
    public async Task An_answer_whose_binary_message_also_has_an_attachment_must_reach_the_caller_as_the_handlers_error()
    {
        var (a, b, _) = await Mesh3();
        await b.AddService<int, ServiceReply>("bytes", (_, _, _) => new ValueTask<ServiceReply>(new ServiceReply(new byte[] { 1 }) { Attachment = new byte[] { 2 } })).Ready;
        await WaitForProviders(a, "bytes", 1);

        var failure = await Assert.ThrowsAsync<RemoteServiceException>(() => a.RequestAsync<int, ServiceResponse>("bytes", 1));

        Assert.Equal("System.ArgumentException", failure.RemoteType);
        Assert.Contains("already carries a binary attachment", failure.RemoteMessage);
    }

    [Fact]
    public async Task Every_error_must_reach_the_caller_as_its_typed_exception()
    {
        var (a, b, _) = await Mesh3();
        await b.AddService<Quote, Price>("quote", (q, _, _) => q.Symbol == "XYZ" ? throw new KeyNotFoundException("no quote for XYZ") : new ValueTask<Price>(new Price(q.Symbol, 1))).Ready;
        await b.AddService<int, int>("hang", async (_, _, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return 0;
        }).Ready;
        await WaitForProviders(a, "hang", 1);

        var handler = await Assert.ThrowsAsync<RemoteServiceException>(() => a.RequestAsync<Quote, Price>("quote", new Quote("XYZ")));
        Assert.Equal(("handler_error", "System.Collections.Generic.KeyNotFoundException", "no quote for XYZ"), (handler.ErrorCode, handler.RemoteType, handler.RemoteMessage));
        Assert.Equal(b.Id, handler.NodeId);

        var badRequest = await Assert.ThrowsAsync<RemoteServiceException>(() => a.RequestAsync<string, Price>("quote", "not a quote"));
        Assert.Equal("bad_request", badRequest.ErrorCode);

        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAsync<NoServiceProviderException>(() => a.RequestAsync<int, int>("nobody", 1));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"no provider took {watch.Elapsed}");

        var timeout = await Assert.ThrowsAsync<TimeoutException>(() => a.RequestAsync<int, int>("hang", 1, new RequestOptions { Timeout = TimeSpan.FromMilliseconds(300) }));
        Assert.Contains("'hang'", timeout.Message);
        Assert.Contains(b.Id, timeout.Message);
    }

    [Fact]
    public async Task A_request_stuck_behind_a_backed_up_queue_must_still_time_out_at_its_timeout()
    {
        var a = await Start("a");
        var b = await Start("b", messaging: new MessagingOptions { SubscriberBacklogLimit = 10 });
        await WaitConnected(a, b);
        var gate = new TaskCompletionSource();
        await b.Subscribe<byte[]>("stuck", async (_, _) => await gate.Task).Ready;
        await b.AddService<int, int>("echo", (x, _, _) => new ValueTask<int>(x)).Ready;
        await WaitForNodes(a, "stuck", 1);
        await WaitForProviders(a, "echo", 1);
        try
        {
            // b stops reading its channel from a, so a's queue to b fills until senders have to wait for room.
            var payload = new byte[64 * 1024];
            var publishing = Task.Run(async () =>
            {
                while (!gate.Task.IsCompleted)
                    await a.PublishAsync("stuck", payload);
            });
            await AwaitConditionAsync(
                () => a.DescribePeers().Single(peer => peer.NodeId == b.Id).QueuedBytes >= new PeerOptions().BackpressureBytes,
                TestTimeouts.Long,
                message: "a's queue to b to back up");

            var watch = Stopwatch.StartNew();
            var timeout = await Assert.ThrowsAsync<TimeoutException>(
                () => a.RequestAsync<int, int>("echo", 1, new RequestOptions { Timeout = TimeSpan.FromMilliseconds(300) }).WithTimeout());

            Assert.Contains(b.Id, timeout.Message);
            Assert.True(watch.Elapsed < TestTimeouts.Default, $"the request took {watch.Elapsed}");
            Assert.Equal(0, a.MessagingLayer.Correlator.Count);
            Assert.False(publishing.IsCompleted);
        }
        finally
        {
            gate.TrySetResult();
        }
    }

    [Fact]
    public async Task A_stopping_node_must_let_its_handlers_use_the_mesh_until_their_requests_are_answered()
    {
        var (a, b, _) = await Mesh3();
        var gate = new TaskCompletionSource();
        var started = new TaskCompletionSource();
        await b.AddService<int, int>("last-order", async (x, _, _) =>
        {
            started.TrySetResult();
            await gate.Task;
            await b.PublishAsync("audit", x);
            return x + 1;
        }).Ready;
        await WaitForProviders(a, "last-order", 1);
        var call = a.RequestAsync<int, int>("last-order", 41, new RequestOptions { Timeout = TestTimeouts.Long });
        await started.Task.WithTimeout();

        var stopping = b.StopAsync();
        await AwaitConditionAsync(() => a.Members.All(member => member.Id != b.Id), TestTimeouts.Default, message: "b to leave the registry");
        gate.SetResult();

        Assert.Equal(42, await call.WithTimeout());
        await stopping.WithTimeout();
    }

    [Fact]
    public async Task A_stopping_node_must_send_new_requests_to_another_provider()
    {
        var (a, b, c) = await Mesh3();
        var gate = new TaskCompletionSource();
        var started = new TaskCompletionSource();
        await b.AddService<int, string>("slow", async (_, _, _) =>
        {
            started.TrySetResult();
            await gate.Task;
            return "b";
        }).Ready;
        await b.AddService<int, string>("who", (_, _, _) => new ValueTask<string>("b")).Ready;
        await c.AddService<int, string>("who", (_, _, _) => new ValueTask<string>("c")).Ready;
        await WaitForProviders(a, "slow", 1);
        await WaitForProviders(a, "who", 2);
        var slow = a.RequestAsync<int, string>("slow", 1, new RequestOptions { Timeout = TestTimeouts.Long });
        await started.Task.WithTimeout();

        var stopping = b.StopAsync();
        await AwaitConditionAsync(() => b.MessagingLayer.Inbound.IsDraining, TestTimeouts.Default, message: "b to drain its requests");

        // Round robin takes both providers in two calls: b, leaving, sends its turn on to c.
        Assert.Equal("c", await a.RequestAsync<int, string>("who", 1));
        Assert.Equal("c", await a.RequestAsync<int, string>("who", 2));
        gate.SetResult();
        Assert.Equal("b", await slow.WithTimeout());
        await stopping.WithTimeout();
    }

    [Fact]
    public async Task A_request_must_wait_for_a_provider_when_asked_to()
    {
        var (a, b, _) = await Mesh3();
        var call = a.RequestAsync<int, int>("late", 20, new RequestOptions { WaitForProvider = TestTimeouts.Default });

        await b.AddService<int, int>("late", (x, _, _) => new ValueTask<int>(x + 1)).Ready;

        Assert.Equal(21, await call.WithTimeout());
    }

    [Fact]
    public async Task Cancelling_a_request_must_fire_the_remote_handlers_token()
    {
        var (a, b, _) = await Mesh3();
        var started = new TaskCompletionSource();
        var cancelled = new TaskCompletionSource();
        await b.AddService<int, int>("work", async (_, _, ct) =>
        {
            ct.Register(() => cancelled.TrySetResult());
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return 0;
        }).Ready;
        await WaitForProviders(a, "work", 1);
        using var cts = new CancellationTokenSource();
        var call = a.RequestAsync<int, int>("work", 1, cancellationToken: cts.Token);
        await started.Task.WithTimeout();

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WithTimeout());
        await cancelled.Task.WithTimeout();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_provider_that_dies_mid_request_must_fail_the_call_at_once_or_retry_it_when_idempotent(bool clientDials)
    {
        // The smaller node id dials (docs/protocol.md 7.4): both ends of the lost channel must notice the crash.
        const string smaller = "00000000-0000-4000-8000-000000000001", larger = "ffffffff-ffff-4fff-bfff-fffffffffff1";
        var client = await Start("client", nodeId: clientDials ? smaller : larger);
        var doomed = await Start("doomed", nodeId: clientDials ? larger : smaller);
        var survivor = await Start("survivor");
        var started = new TaskCompletionSource();
        await doomed.AddService<int, string>("work", async (_, _, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return "never";
        }).Ready;
        await WaitForProviders(client, "work", 1);
        var plain = client.RequestAsync<int, string>("work", 1, new RequestOptions { Timeout = TimeSpan.FromMinutes(5) });
        await started.Task.WithTimeout();
        await survivor.AddService<int, string>("work", (_, _, _) => new ValueTask<string>("survivor")).Ready;
        await WaitForProviders(client, "work", 2);

        // Round robin alternates: within two tries an idempotent request is in flight on the doomed provider.
        Task<string> idempotent;
        do
        {
            idempotent = client.RequestAsync<int, string>("work", 1, new RequestOptions { Timeout = TimeSpan.FromMinutes(5), Idempotent = true });
            await AwaitConditionAsync(() => idempotent.IsCompleted || Provider(client, "work", doomed.Id).OutstandingRequests == 2);
        }
        while (idempotent.IsCompleted);

        var watch = Stopwatch.StartNew();

        await doomed.System.Terminate(); // abrupt: channels reset without a goodbye, requests in flight unanswered

        var lost = await Assert.ThrowsAsync<PeerUnavailableException>(() => plain.WithTimeout());
        Assert.Equal(doomed.Id, lost.NodeId);
        Assert.Equal("survivor", await idempotent.WithTimeout());
        Output!.WriteLine($"failed and retried {watch.Elapsed.TotalMilliseconds:0} ms after the crash");
        Assert.True(watch.Elapsed < TestTimeouts.Scaled(TimeSpan.FromSeconds(3)), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Round_robin_must_spread_requests_evenly_across_providers()
    {
        var client = await Start("client");
        var providers = new[] { await Start("p1"), await Start("p2"), await Start("p3") };
        foreach (var provider in providers)
            await provider.AddService<int, string>("id", (_, _, _) => new ValueTask<string>(provider.Id)).Ready;
        await WaitForProviders(client, "id", 3);

        var answers = new List<string>();
        for (var i = 0; i < 300; i++)
            answers.Add(await client.RequestAsync<int, string>("id", i));

        Assert.Equal(providers.Select(p => p.Id).Order(), answers.Distinct().Order());
        Assert.All(answers.GroupBy(id => id), group => Assert.Equal(100, group.Count()));
    }

    [Fact]
    public async Task Ping_must_reach_a_node_by_id_name_and_address()
    {
        var (a, b, _) = await Mesh3();

        Assert.True(await a.PingAsync(b.Id) > TimeSpan.Zero);
        Assert.True(await a.PingAsync(b.Self.Name) > TimeSpan.Zero);
        Assert.True(await a.PingAsync(b.Self.Address) > TimeSpan.Zero);
        await Assert.ThrowsAsync<PeerUnavailableException>(() => a.PingAsync("nobody"));
    }

    [Fact]
    public async Task A_raw_message_must_arrive_on_the_channel_topic()
    {
        var (a, b, _) = await Mesh3();
        var channel = Collect<System.Text.Json.JsonElement>(b, IMesh.ChannelTopic);
        await channel.Ready;

        await a.SendAsync(b.Self.Name, new { message = "Message from Node #0" });

        Assert.Equal("Message from Node #0", (await channel.NextAsync()).GetProperty("message").GetString());
        Assert.Equal(a.Id, channel.Contexts.Single().SenderId);
    }

    [Fact]
    public async Task Actors_must_use_the_router_and_services_with_messages()
    {
        var a = await Start("a");
        var b = await Start("b", system: Sys);
        var subscriber = CreateTestProbe();
        b.TopicRouter.Tell(new Subscribe("prices", subscriber.Ref));
        ExpectMsg<SubscribeAck>();
        var handler = CreateTestProbe();
        b.Services.Tell(new HostService("greet", handler.Ref));
        ExpectMsg<ServiceHosted>();
        await WaitForNodes(a, "prices", 1);
        await WaitForProviders(a, "greet", 1);

        a.TopicRouter.Tell(new Publish("prices", new Price("ABC", 3)));
        var call = a.RequestAsync<string, string>("greet", "Ada");

        Assert.Equal(new Price("ABC", 3), subscriber.ExpectMsg<TopicMessage>().Deserialize<Price>());
        var request = handler.ExpectMsg<ServiceRequest>();
        handler.Reply("Hello, " + request.Deserialize<string>());
        Assert.Equal("Hello, Ada", await call.WithTimeout());
    }

    [Fact]
    public async Task A_mesh_actor_that_fails_on_a_message_must_go_on_with_its_subscribers()
    {
        var a = await Start("a", system: Sys);
        var members = CreateTestProbe();
        a.Registry.Tell(new SubscribeMembers(members.Ref));
        members.ExpectMsg<CurrentMembers>();
        var prices = CreateTestProbe();
        a.TopicRouter.Tell(new Subscribe("prices", prices.Ref));
        ExpectMsg<SubscribeAck>();

        // Malformed messages from a faulty application actor: each makes its actor fail.
        a.Registry.Tell(new UpdateSelf(null!));
        a.TopicRouter.Tell(new Unsubscribe(null!, prices.Ref));

        var b = await Start("b");
        Assert.Equal(b.Id, members.FishForMessage<MemberUp>(up => up.Member.Id == b.Id).Member.Id);
        await WaitForNodes(b, "prices", 1);
        await b.PublishAsync("prices", new Price("ABC", 4));
        Assert.Equal(new Price("ABC", 4), prices.ExpectMsg<TopicMessage>().Deserialize<Price>());
    }

    [Fact]
    public async Task Registration_must_carry_the_topics_and_services_and_a_stopped_node_must_leave_at_once()
    {
        var (a, b, _) = await Mesh3();
        await b.Subscribe<int>("prices", (_, _) => default).Ready;
        await b.AddService<int, int>("quote", (x, _, _) => new ValueTask<int>(x)).Ready;
        await AwaitConditionAsync(() => a.Members.SingleOrDefault(m => m.Id == b.Id) is { } member
            && member.Topics.SequenceEqual(["prices"]) && member.Services.SequenceEqual(["quote"]));
        Assert.Equal(1, a.Members.Single(m => m.Id == b.Id).ProtocolVersion);
        var down = new TaskCompletionSource<MemberDown>();
        using var watching = a.OnMembership(e =>
        {
            if (e is MemberDown d && d.Member.Id == b.Id)
                down.TrySetResult(d);
        });
        var watch = Stopwatch.StartNew();

        await b.StopAsync();

        Assert.Equal(MemberDownReason.Left, (await down.Task.WithTimeout()).Reason);
        Output!.WriteLine($"leave seen {watch.Elapsed.TotalMilliseconds:0} ms after the stop began");
        Assert.DoesNotContain(a.Members, m => m.Id == b.Id);
    }

    [Fact]
    public async Task Once_Joined_completes_Members_must_hold_every_node_that_was_registered_before()
    {
        var a = await Start("a");
        var b = await Start("b");
        await a.Joined.WithTimeout();
        await b.Joined.WithTimeout(); // a start returns before the node's registration is written

        var c = await Start("c");
        await c.Joined.WithTimeout();

        Assert.Equal(new[] { a.Id, b.Id }.Order(StringComparer.Ordinal), c.Members.Select(m => m.Id).Order(StringComparer.Ordinal));
    }

    protected async Task<(MeshNode A, MeshNode B, MeshNode C)> Mesh3()
    {
        var a = await Start("a");
        var b = await Start("b");
        var c = await Start("c");
        await WaitConnected(a, b, c);
        return (a, b, c);
    }

    protected async Task<MeshNode> Start(string name, ActorSystem? system = null, string? nodeId = null, MessagingOptions? messaging = null, PeerOptions? peers = null)
    {
        var node = await MeshNode.StartAsync(
            new MeshOptions
            {
                NodeName = name,
                NodeId = nodeId,
                Discovery = new DiscoveryOptions { Registry = RegistrySetting, KeyPrefix = Prefix, HeartbeatInterval = TimeSpan.FromMilliseconds(250), Ttl = TimeSpan.FromSeconds(2) },
                Messaging = messaging ?? new MessagingOptions(),
                Peers = peers ?? new PeerOptions(),
                LoggerFactory = Log,
            },
            system);
        _nodes.Add(node);
        return node;
    }

    protected Task WaitConnected(params MeshNode[] nodes) => AwaitConditionAsync(
        () => nodes.All(node => node.DescribePeers().Count(peer => peer.IsConnected) >= nodes.Length - 1),
        TestTimeouts.Default,
        message: "every node connected to every other");

    private Task WaitForNodes(MeshNode node, string topic, int count) => AwaitConditionAsync(
        () => Routes(node).Topic(topic)?.Groups.Sum(group => group.Count) == count, TestTimeouts.Default, message: $"{count} nodes on {topic}");

    private Task WaitForProviders(MeshNode node, string service, int count) => AwaitConditionAsync(
        () => Routes(node).Service(service)?.Providers.Count == count, TestTimeouts.Default, message: $"{count} providers of {service}");

    private static RouteCandidate Provider(MeshNode node, string service, string id) => Routes(node).Service(service)!.Providers.Single(p => p.NodeId == id);

    private static PeerInfo PeerFrom(MeshNode node, MeshNode peer) => node.DescribePeers().Single(info => info.NodeId == peer.Id);

    private static RoutingTable Routes(MeshNode node) => node.MessagingLayer.Routes.Current;

    private static Collector<T> Collect<T>(MeshNode node, string topic) => new(node, topic);

    /// <summary>Keeps what one subscription received, in order.</summary>
    private sealed class Collector<T>
    {
        private readonly System.Threading.Channels.Channel<T> _channel = System.Threading.Channels.Channel.CreateUnbounded<T>();

        public Collector(MeshNode node, string topic) => Subscription = node.Subscribe<T>(topic, (message, context) =>
        {
            Contexts.Add(context);
            Received.Enqueue(message);
            _channel.Writer.TryWrite(message);
            return default;
        });

        public MeshRegistration Subscription { get; }

        public Task Ready => Subscription.Ready;

        public ConcurrentQueue<T> Received { get; } = new();

        public ConcurrentBag<MessageContext> Contexts { get; } = [];

        public async Task<T> NextAsync() => await _channel.Reader.ReadAsync().AsTask().WithTimeout();
    }
}
