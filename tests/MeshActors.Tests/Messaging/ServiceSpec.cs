using System.Diagnostics;
using MeshActors.Actors;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Protocol;
using Xunit.Abstractions;

namespace MeshActors.Tests.Messaging;

using MeshActors.TestKit;

/// <summary>Services between in-process nodes joined by loopback channels: requests, errors, cancellation, retries, balancing.</summary>
public sealed class ServiceSpec(ITestOutputHelper output) : TestKit(output), IAsyncLifetime
{
    private readonly List<MessagingNode> _nodes = [];
    private MessagingNode _client = null!;

    public async Task InitializeAsync() => _client = await Node("client");

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Request_must_return_the_remote_handlers_response()
    {
        var provider = await Provider("quotes", "quote", (Quote q) => new Price(q.Symbol, 101.5));

        var price = await _client.Messaging.RequestAsync<Quote, Price>("quote", new Quote("ABC"));

        Assert.Equal(new Price("ABC", 101.5), price);
        Assert.Single(provider.ToClient.Reverse.SentOf<Envelope.Req>());
    }

    [Fact]
    public async Task Request_to_a_service_of_this_node_must_not_touch_the_network()
    {
        var other = await Node("other");
        var toOther = LoopbackPeer.Connect(_client, other);
        await _client.Messaging.AddService<int, int>("double", (x, _, _) => new ValueTask<int>(x * 2)).Ready;

        Assert.Equal(42, await _client.Messaging.RequestAsync<int, int>("double", 21));
        Assert.Empty(toOther.SentOf<Envelope.Req>());
    }

    [Fact]
    public async Task A_handler_exception_must_reach_the_caller_with_its_type_and_message_and_no_stack_trace()
    {
        await Provider("quotes", "quote", (Quote q) => q.Symbol == "XYZ" ? throw new KeyNotFoundException("no quote for XYZ") : new Price(q.Symbol, 1));

        var ex = await Assert.ThrowsAsync<RemoteServiceException>(() => _client.Messaging.RequestAsync<Quote, Price>("quote", new Quote("XYZ")));

        Assert.Equal(ErrorCodes.HandlerError, ex.ErrorCode);
        Assert.Equal("System.Collections.Generic.KeyNotFoundException", ex.RemoteType);
        Assert.Equal("no quote for XYZ", ex.RemoteMessage);
        Assert.Equal("quote", ex.Service);
        Assert.DoesNotContain(" at ", ex.Message);
    }

    [Fact]
    public async Task A_request_whose_data_is_not_the_request_type_must_fail_with_bad_request()
    {
        await Provider("quotes", "quote", (Quote q) => new Price(q.Symbol, 1));

        var ex = await Assert.ThrowsAsync<RemoteServiceException>(() => _client.Messaging.RequestAsync<int[], Price>("quote", [1, 2]));

        Assert.Equal(ErrorCodes.BadRequest, ex.ErrorCode);
    }

    [Fact]
    public async Task A_request_without_provider_must_fail_at_once()
    {
        var watch = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<NoServiceProviderException>(() => _client.Messaging.RequestAsync<int, int>("nobody", 1));

        Assert.Equal("nobody", ex.Service);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task A_request_must_wait_for_a_provider_when_asked_to()
    {
        var call = _client.Messaging.RequestAsync<int, int>("late", 1, new RequestOptions { WaitForProvider = TestTimeouts.Default });
        Assert.False(call.IsCompleted);

        await Provider("late-node", "late", (int x) => x + 1);

        Assert.Equal(2, await call.WithTimeout());
    }

    [Fact]
    public async Task The_timeout_must_count_from_when_a_provider_is_found_not_while_waiting_for_one()
    {
        var timeout = TimeSpan.FromSeconds(1);
        var call = _client.Messaging.RequestAsync<int, int>("later", 1, new RequestOptions { Timeout = timeout, WaitForProvider = TestTimeouts.Default });
        var outcome = CreateTestProbe();
        _ = call.PipeTo(outcome.Ref);
        outcome.ExpectNoMsg(timeout * 1.5); // nobody provides the service for longer than the call's timeout

        await Provider("later-node", "later", (int x) => x + 1);

        Assert.Equal(2, await call.WithTimeout());
    }

    [Fact]
    public async Task Waiting_for_a_provider_must_end_with_NoServiceProviderException()
    {
        await Assert.ThrowsAsync<NoServiceProviderException>(() => _client.Messaging.RequestAsync<int, int>(
            "never", 1, new RequestOptions { WaitForProvider = TimeSpan.FromMilliseconds(100) }));
    }

    [Fact]
    public async Task A_request_nobody_answers_must_time_out_naming_the_service_and_the_node()
    {
        var provider = await Provider<int, int>("slow-node", "slow", async (_, _, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return 0;
        });

        var ex = await Assert.ThrowsAsync<TimeoutException>(() => _client.Messaging.RequestAsync<int, int>(
            "slow", 1, new RequestOptions { Timeout = TimeSpan.FromMilliseconds(200) }));

        Assert.Contains("'slow'", ex.Message);
        Assert.Contains(provider.Node.Id, ex.Message);
        await AwaitConditionAsync(() => provider.Node.Messaging.Inbound.Count == 0); // the cancel reached the provider
    }

    [Fact]
    public async Task Each_request_must_have_a_deadline_of_its_own_though_deadlines_are_reused()
    {
        await Provider<int, int>("mixed-node", "mixed", async (delay, _, ct) =>
        {
            await Task.Delay(delay, ct);
            return delay;
        });
        var brief = new RequestOptions { Timeout = TimeSpan.FromMilliseconds(300) };

        // Answered in time: their deadlines go back to be reused, and must never fire for a later request.
        for (var i = 0; i < 20; i++)
            Assert.Equal(0, await _client.Messaging.RequestAsync<int, int>("mixed", 0, brief).WithTimeout());
        await Assert.ThrowsAsync<TimeoutException>(() => _client.Messaging.RequestAsync<int, int>("mixed", 5_000, brief).WithTimeout());

        // Each waits 500 ms for its answer, past every deadline above: a reused one still armed would fire meanwhile.
        var patient = new RequestOptions { Timeout = TimeSpan.FromSeconds(5) };
        var calls = Enumerable.Range(0, 20).Select(_ => _client.Messaging.RequestAsync<int, int>("mixed", 500, patient)).ToArray();
        Assert.All(await Task.WhenAll(calls).WithTimeout(), answer => Assert.Equal(500, answer));
    }

    [Fact]
    public async Task A_provider_that_disconnects_mid_request_must_fail_the_call_at_once()
    {
        var started = new TaskCompletionSource();
        var provider = await Provider<int, int>("doomed", "work", async (_, _, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return 0;
        });
        var call = _client.Messaging.RequestAsync<int, int>("work", 1, new RequestOptions { Timeout = TimeSpan.FromMinutes(5) });
        await started.Task.WithTimeout();
        var watch = Stopwatch.StartNew();

        provider.ToClient.Reverse.Disconnect(_client, provider.Node);

        var ex = await Assert.ThrowsAsync<PeerUnavailableException>(() => call.WithTimeout());
        Assert.Equal(provider.Node.Id, ex.NodeId);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
        Assert.Equal(0, _client.Messaging.Correlator.Count);
    }

    [Fact]
    public async Task An_idempotent_request_must_be_retried_once_on_another_provider_when_its_provider_dies()
    {
        var started = new TaskCompletionSource();
        var doomed = await Provider<int, string>("work-a", "work", async (_, _, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return "never";
        });
        await Provider("work-b", "work", (int _) => "survivor");
        var call = _client.Messaging.RequestAsync<int, string>(
            "work", 1, new RequestOptions { Idempotent = true, Timeout = TimeSpan.FromMinutes(5) },
            CancellationToken.None);

        // Round robin may pick either provider first: only a request that reached the doomed one is a retry.
        var first = await Task.WhenAny(started.Task, call);
        if (first == call)
        {
            Assert.Equal("survivor", await call);
            call = _client.Messaging.RequestAsync<int, string>("work", 1, new RequestOptions { Idempotent = true, Timeout = TimeSpan.FromMinutes(5) });
            await started.Task.WithTimeout();
        }

        doomed.ToClient.Reverse.Disconnect(_client, doomed.Node);

        Assert.Equal("survivor", await call.WithTimeout());
    }

    [Fact]
    public async Task Cancelling_a_request_must_fire_the_remote_handlers_token()
    {
        var started = new TaskCompletionSource();
        var cancelled = new TaskCompletionSource();
        await Provider<int, int>("worker", "work", async (_, _, ct) =>
        {
            ct.Register(() => cancelled.TrySetResult());
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return 0;
        });
        using var cts = new CancellationTokenSource();
        var call = _client.Messaging.RequestAsync<int, int>("work", 1, cancellationToken: cts.Token);
        await started.Task.WithTimeout();

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WithTimeout());
        await cancelled.Task.WithTimeout();
    }

    [Fact]
    public async Task A_request_whose_token_is_cancelled_already_must_fail_without_being_sent()
    {
        var ran = new List<int>();
        var (_, toClient) = await Provider<int, int>("worker", "work", (n, _, _) =>
        {
            lock (ran)
                ran.Add(n);
            return new ValueTask<int>(n);
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _client.Messaging.RequestAsync<int, int>("work", 1, cancellationToken: new CancellationToken(canceled: true)));

        Assert.Equal(2, await _client.Messaging.RequestAsync<int, int>("work", 2).WithTimeout()); // sent after the first would have been
        lock (ran)
            Assert.Equal([2], ran);
        Assert.Empty(toClient.Reverse.SentOf<Envelope.Cancel>()); // nothing to take back either
    }

    [Fact]
    public async Task A_request_for_a_service_this_node_does_not_host_must_be_answered_no_service()
    {
        var other = await Node("other");
        var toOther = LoopbackPeer.Connect(_client, other);

        toOther.TrySend(new Envelope.Req(7, "missing", Payload.Null));

        await AwaitConditionAsync(() => toOther.Reverse.SentOf<Envelope.Err>().Any(err => err is { Id: 7, Code: ErrorCodes.NoService }));
        Assert.Equal(1, other.Messaging.Stats.NoServiceAnswers);
    }

    [Fact]
    public async Task Round_robin_must_spread_requests_evenly_across_providers()
    {
        foreach (var name in new[] { "p1", "p2", "p3" })
            await Provider(name, "id", (int _) => name);
        await _client.WaitForProvidersAsync("id", 3);

        var answers = new List<string>();
        for (var i = 0; i < 300; i++)
            answers.Add(await _client.Messaging.RequestAsync<int, string>("id", i));

        Assert.Equal(3, answers.Distinct().Count());
        Assert.All(answers.GroupBy(a => a), group => Assert.Equal(100, group.Count()));
    }

    [Fact]
    public async Task A_request_with_an_attachment_must_go_only_to_providers_that_accept_attachments()
    {
        var binary = await Node("binary");
        var plain = await Node("plain");
        LoopbackPeer.Connect(_client, binary);
        var toPlain = LoopbackPeer.Connect(_client, plain, acceptsAttachments: false);
        foreach (var provider in new[] { binary, plain })
            await provider.Messaging.AddService<int, string>("id", (_, context, _) => new ValueTask<string>(provider.Name + context.Attachment.Length)).Ready;
        await _client.WaitForProvidersAsync("id", 2);

        for (var i = 0; i < 6; i++)
            Assert.Equal("binary3", await _client.Messaging.RequestAsync<int, string>("id", i, new byte[] { 1, 2, 3 }, options: null));

        Assert.Empty(toPlain.SentOf<Envelope.Req>());
    }

    [Fact]
    public async Task Round_robin_must_go_on_rotating_among_the_providers_that_accept_attachments()
    {
        var plain = await Node("plain");
        LoopbackPeer.Connect(_client, plain, acceptsAttachments: false);
        await plain.Messaging.AddService<int, string>("id", (_, _, _) => new ValueTask<string>("plain")).Ready;
        foreach (var name in new[] { "p1", "p2", "p3" })
            await Provider(name, "id", (int _) => name);
        await _client.WaitForProvidersAsync("id", 4);

        var answers = new List<string>();
        for (var i = 0; i < 300; i++)
            answers.Add(await _client.Messaging.RequestAsync<int, string>("id", i, new byte[] { 1 }, options: null));

        Assert.All(answers.GroupBy(a => a), group => Assert.Equal(100, group.Count()));
        Assert.Equal(3, answers.Distinct().Count());
    }

    [Fact]
    public async Task A_request_with_an_attachment_that_no_provider_accepts_must_fail_at_once_without_sending_anything()
    {
        var plain = await Node("plain");
        var toPlain = LoopbackPeer.Connect(_client, plain, acceptsAttachments: false);
        await plain.Messaging.AddService<int, int>("id", (x, _, _) => new ValueTask<int>(x)).Ready;
        await _client.WaitForProvidersAsync("id", 1);

        var refused = await Assert.ThrowsAsync<NotSupportedException>(() => _client.Messaging.RequestAsync<int, int>("id", 1, new byte[] { 1 }, options: null));

        Assert.Contains("accepts binary attachments", refused.Message);
        Assert.Empty(toPlain.SentOf<Envelope.Req>());
        Assert.Empty(toPlain.SentOf<Envelope.Cancel>());
    }

    [Fact]
    public async Task Local_first_must_prefer_this_node_when_it_hosts_the_service()
    {
        var client = await Node("local-first", new MessagingOptions { ServiceBalancer = LoadBalancers.LocalFirst });
        var remote = await Node("remote");
        LoopbackPeer.Connect(client, remote);
        await remote.Messaging.AddService<int, string>("id", (_, _, _) => new ValueTask<string>("remote")).Ready;
        await client.Messaging.AddService<int, string>("id", (_, _, _) => new ValueTask<string>("local")).Ready;
        await client.WaitForProvidersAsync("id", 2);

        for (var i = 0; i < 20; i++)
            Assert.Equal("local", await client.Messaging.RequestAsync<int, string>("id", i));
    }

    [Fact]
    public async Task Least_outstanding_must_send_requests_to_the_provider_that_is_not_busy()
    {
        var client = await Node("least", new MessagingOptions { ServiceBalancer = LoadBalancers.LeastOutstanding });
        var release = new TaskCompletionSource<string>();
        var busy = await Node("busy");
        var idle = await Node("idle");
        LoopbackPeer.Connect(client, busy);
        LoopbackPeer.Connect(client, idle);
        await busy.Messaging.AddService<int, string>("id", async (_, _, _) => await release.Task).Ready;
        await idle.Messaging.AddService<int, string>("id", (_, _, _) => new ValueTask<string>("idle")).Ready;
        await client.WaitForProvidersAsync("id", 2);

        // Occupy the busy provider with one request that stays unanswered...
        var pinned = new List<Task<string>>();
        while (pinned.Count == 0 || client.Messaging.Routes.Current.Service("id")!.Providers.Single(p => p.NodeId == busy.Id).OutstandingRequests == 0)
            pinned.Add(client.Messaging.RequestAsync<int, string>("id", 0));

        // ...and, once the idle one has answered what it got of those (an equal load takes turns)...
        await AwaitConditionAsync(() => client.Messaging.Routes.Current.Service("id")!.Providers.Single(p => p.NodeId == idle.Id).OutstandingRequests == 0);

        // ...every sequential request goes to the idle one.
        for (var i = 0; i < 20; i++)
            Assert.Equal("idle", await client.Messaging.RequestAsync<int, string>("id", i));

        release.SetResult("busy");
        await Task.WhenAll(pinned).WithTimeout();
    }

    [Fact]
    public void A_HostService_message_without_a_handler_actor_must_be_refused_and_host_nothing()
    {
        _client.Messaging.Services.Tell(new HostService("greet", null!));

        Assert.IsType<ArgumentNullException>(ExpectMsg<Status.Failure>().Cause);
        Assert.Null(_client.Messaging.Routes.Current.Service("greet")); // not a service whose every request fails
    }

    [Fact]
    public async Task An_actor_must_host_a_service_and_request_it_with_messages()
    {
        var provider = await Node("actor-host");
        LoopbackPeer.Connect(_client, provider);
        var handler = CreateTestProbe();
        provider.Messaging.Services.Tell(new HostService("greet", handler.Ref));
        ExpectMsg<ServiceHosted>(hosted => hosted.Service == "greet");
        await _client.WaitForProvidersAsync("greet", 1);

        _client.Messaging.Services.Tell(new Request("greet", "Ada"));

        var request = handler.ExpectMsg<ServiceRequest>();
        Assert.Equal("Ada", request.Deserialize<string>());
        Assert.Equal(_client.Id, request.SenderId);
        handler.Reply($"Hello, {request.Deserialize<string>()}");
        var response = ExpectMsg<ServiceResponse>();
        Assert.Equal("Hello, Ada", response.Deserialize<string>());
        Assert.Equal(provider.Id, response.SenderId);
    }

    [Fact]
    public async Task An_actor_request_that_fails_must_be_answered_with_a_failure()
    {
        _client.Messaging.Services.Tell(new Request("nobody", 1));

        var failure = await ExpectMsgAsync<Status.Failure>();
        Assert.IsType<NoServiceProviderException>(failure.Cause);
    }

    [Fact]
    public async Task An_actor_request_whose_binary_message_also_has_an_attachment_must_be_answered_with_a_failure_naming_it()
    {
        _client.Messaging.Services.Tell(new Request("greet", new byte[] { 1, 2 }) { Attachment = new byte[] { 3, 4 } });

        var failure = await ExpectMsgAsync<Status.Failure>();
        var refused = Assert.IsType<ArgumentException>(failure.Cause);
        Assert.Contains("already carries a binary attachment", refused.Message);
    }

    [Fact]
    public async Task An_actor_request_whose_message_cannot_be_serialized_must_be_answered_with_the_serializers_failure()
    {
        var loop = new Loop();
        loop.Next = loop;

        _client.Messaging.Services.Tell(new Request("greet", loop));

        var failure = await ExpectMsgAsync<Status.Failure>();
        Assert.IsType<System.Text.Json.JsonException>(failure.Cause);
    }

    [Fact]
    public async Task A_caller_must_be_told_to_read_an_answer_as_a_ServiceResponse_not_a_ServiceReply()
    {
        await Provider("quotes", "quote", (Quote q) => new Price(q.Symbol, 1));

        var refused = await Assert.ThrowsAsync<NotSupportedException>(() => _client.Messaging.RequestAsync<Quote, ServiceReply>("quote", new Quote("ABC")));

        Assert.Contains("ask for a ServiceResponse", refused.Message);
    }

    [Fact]
    public async Task A_handler_actor_that_stops_must_withdraw_its_service()
    {
        var handler = CreateTestProbe();
        _client.Messaging.Services.Tell(new HostService("greet", handler.Ref));
        ExpectMsg<ServiceHosted>();
        Assert.NotNull(_client.Messaging.Routes.Current.Service("greet"));

        Sys.Stop(handler.Ref);

        await AwaitConditionAsync(() => _client.Messaging.Routes.Current.Service("greet") is null);
    }

    [Fact]
    public async Task Hosting_a_service_twice_on_one_node_must_be_refused_and_disposing_must_withdraw_it()
    {
        var first = _client.Messaging.AddService<int, int>("once", (x, _, _) => new ValueTask<int>(x));
        await first.Ready;

        await Assert.ThrowsAsync<InvalidOperationException>(() => _client.Messaging.AddService<int, int>("once", (x, _, _) => new ValueTask<int>(x)).Ready);

        first.Dispose();
        await AwaitConditionAsync(() => _client.Messaging.Routes.Current.Service("once") is null);
        await _client.Messaging.AddService<int, int>("once", (x, _, _) => new ValueTask<int>(-x)).Ready;
        Assert.Equal(-1, await _client.Messaging.RequestAsync<int, int>("once", 1));
    }

    [Fact]
    public async Task Disposing_a_refused_actor_registration_must_leave_the_hosted_service_alone()
    {
        await _client.Messaging.AddService<int, int>("taken", (x, _, _) => new ValueTask<int>(x + 1)).Ready;
        var refused = _client.Messaging.AddService("taken", CreateTestProbe().Ref);
        await Assert.ThrowsAsync<InvalidOperationException>(() => refused.Ready);

        refused.Dispose();
        await _client.Messaging.AddService<int, int>("after", (x, _, _) => new ValueTask<int>(x)).Ready; // the dispose was handled

        Assert.Equal(2, await _client.Messaging.RequestAsync<int, int>("taken", 1));
    }

    [Fact]
    public async Task A_handler_actor_must_have_as_long_as_the_caller_waits_not_the_providers_default()
    {
        var provider = await Node("impatient", new MessagingOptions { RequestTimeout = TimeSpan.FromMilliseconds(300) });
        var handler = CreateTestProbe();
        await provider.Messaging.AddService("slow", handler.Ref).Ready;

        var call = provider.Messaging.RequestAsync<int, int>("slow", 20, new RequestOptions { Timeout = TestTimeouts.Long });
        var request = await handler.ExpectMsgAsync<ServiceRequest>();
        // Past the provider's default, the caller still waits, and so must the handler's answer.
        await Assert.ThrowsAsync<TimeoutException>(() => call.WaitAsync(TimeSpan.FromMilliseconds(600)));
        handler.Reply(request.Deserialize<int>() + 1);

        Assert.Equal(21, await call.WithTimeout());
    }

    [Fact]
    public async Task A_request_a_withdrawn_service_never_took_must_fail_at_once_with_unavailable()
    {
        using var gate = new ManualResetEventSlim();
        var running = new TaskCompletionSource();
        var service = _client.Messaging.AddService<int, int>("busy", (x, _, _) =>
        {
            running.TrySetResult();
            gate.Wait(); // holds the service actor, so that the next request waits in its mailbox
            return new ValueTask<int>(x);
        });
        await service.Ready;
        var patient = new RequestOptions { Timeout = TestTimeouts.Long };
        var first = _client.Messaging.RequestAsync<int, int>("busy", 1, patient);
        await running.Task.WithTimeout();
        var queued = _client.Messaging.RequestAsync<int, int>("busy", 2, patient);

        service.Dispose(); // stops the actor once it has finished the request it is running
        await _client.Messaging.AddService<int, int>("after", (x, _, _) => new ValueTask<int>(x)).Ready; // the stop was issued
        gate.Set();

        Assert.Equal(1, await first.WithTimeout());
        var unavailable = await Assert.ThrowsAsync<RemoteServiceException>(() => queued.WithTimeout());
        Assert.Equal(ErrorCodes.Unavailable, unavailable.ErrorCode);
    }

    private Task<(MessagingNode Node, LoopbackPeer ToClient)> Provider<TRequest, TResponse>(string name, string service, Func<TRequest, TResponse> handler) =>
        Provider<TRequest, TResponse>(name, service, (request, _, _) => new ValueTask<TResponse>(handler(request)));

    private async Task<(MessagingNode Node, LoopbackPeer ToClient)> Provider<TRequest, TResponse>(
        string name, string service, Func<TRequest, MessageContext, CancellationToken, ValueTask<TResponse>> handler)
    {
        var node = await Node(name);
        var toClient = LoopbackPeer.Connect(node, _client);
        await node.Messaging.AddService(service, handler).Ready.WithTimeout();
        await AwaitConditionAsync(() => _client.Messaging.Routes.Current.Service(service)?.Providers.Any(p => p.NodeId == node.Id) == true);
        return (node, toClient);
    }

    private async Task<MessagingNode> Node(string name, MessagingOptions? options = null)
    {
        var node = await MessagingNode.StartAsync(name, Output!, Sys, options);
        _nodes.Add(node);
        return node;
    }

    private sealed class Loop
    {
        public Loop? Next { get; set; }
    }
}
