using System.Collections.Concurrent;
using MeshActors.Discovery;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Tests.Mesh;
using MeshActors.Tests.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Messaging;

using MeshActors.TestKit;

/// <summary>Least-outstanding with the publishing node's own load: streams to a topic group while members fall behind, and services beside them; real nodes over real HTTP/2 on loopback.</summary>
public sealed class TopicGroupLoadSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    [Fact]
    public async Task Least_outstanding_must_move_a_groups_stream_away_from_the_publishers_own_member_when_its_subscriber_backs_up()
    {
        // A group of three, "workers", the publisher one of them (docs/messaging.md, Groups: the publishing node counts as
        // a member of its own group), balanced by least-outstanding: "the node with the fewest of this node's requests
        // unanswered, then the fewest bytes queued for it".
        var balanced = new MessagingOptions { TopicGroupBalancer = LoadBalancers.LeastOutstanding, SubscriberBacklogLimit = 200 };
        var publisher = await Start("workers", messaging: balanced);
        var worker2 = await Start("workers", messaging: balanced);
        var worker3 = await Start("workers", messaging: balanced);
        await WaitConnected(publisher, worker2, worker3);

        var remote = new ConcurrentDictionary<string, int>();
        foreach (var worker in new[] { worker2, worker3 })
        {
            await worker.Subscribe<int>("jobs", (_, _) =>
            {
                remote.AddOrUpdate(worker.Id, 1, (_, n) => n + 1);
                return default;
            }).Ready;
        }

        // The publisher's own member is stuck: its callback does not return, so messages queue up for it.
        var gate = new TaskCompletionSource();
        var local = 0;
        await publisher.Subscribe<int>("jobs", async (_, _) =>
        {
            Interlocked.Increment(ref local);
            await gate.Task;
        }).Ready;
        await AwaitConditionAsync(
            () => publisher.MessagingLayer.Routes.Current.Topic("jobs")?.Groups.SingleOrDefault()?.Count == 3,
            TestTimeouts.Default,
            message: "the publisher routing jobs to the three members of its group");

        try
        {
            // A stream of 3,000 messages. The two remote members take each at once; least-outstanding must send the
            // stream to them, not go on queueing behind the stuck one until the publisher waits for it for good.
            var stream = Task.Run(async () =>
            {
                for (var i = 0; i < 3_000; i++)
                    await publisher.PublishAsync("jobs", i);
            });
            var outcome = await Record.ExceptionAsync(() => stream.WaitAsync(TestTimeouts.Long));
            Assert.True(
                outcome is null,
                $"the stream stalled ({outcome?.GetType().Name}): least-outstanding kept choosing the publisher's own member, whose "
                + $"subscriber is stuck ({Volatile.Read(ref local)} message(s) taken, the rest waiting), until PublishAsync waited for its "
                + $"backlog of {publisher.MessagingLayer.Options.SubscriberBacklogLimit} messages; the two idle remote members had "
                + $"{remote.Values.Sum()} messages between them. The local candidate always reports 0 bytes queued, whatever waits for its subscribers.");
        }
        finally
        {
            gate.TrySetResult();
        }
    }

    [Fact]
    public async Task Least_outstanding_services_must_not_push_requests_away_from_the_local_provider_when_an_unrelated_local_subscriber_is_behind()
    {
        // docs/messaging.md, Services: LeastOutstanding is "fewest of this node's requests unanswered, then fewest bytes
        // queued"; equally loaded providers take turns. A request to the local provider goes straight to its service
        // actor: it never waits behind what waits for the node's topic callbacks.
        var balanced = new MessagingOptions { ServiceBalancer = LoadBalancers.LeastOutstanding };
        var caller = await Start("caller", messaging: balanced);
        var other = await Start("other", messaging: balanced);
        using var local = caller.AddService<int, string>("quote", (_, _, _) => ValueTask.FromResult("local"));
        await local.Ready;
        using var remote = other.AddService<int, string>("quote", (_, _, _) => ValueTask.FromResult("remote"));
        await remote.Ready;

        // Both providers in the caller's routes: with nothing queued anywhere, the two take turns.
        await AwaitConditionAsync(
            async () => await caller.RequestAsync<int, string>("quote", 0, new RequestOptions { WaitForProvider = TestTimeouts.Default }) == "remote",
            TestTimeouts.Long,
            message: "the caller sending a request to the remote provider");
        var before = 0;
        for (var i = 0; i < 20; i++)
            before += await caller.RequestAsync<int, string>("quote", i) == "local" ? 1 : 0;
        Assert.True(before > 0, $"before any backlog, the local provider answered {before} of 20 sequential requests");

        // A callback subscriber of an unrelated topic on the caller is busy with one message, and one more waits for it.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var audit = caller.Subscribe<int>("audit", async (_, _) =>
        {
            entered.TrySetResult();
            await gate.Task;
        });
        await audit.Ready;
        try
        {
            await caller.PublishAsync("audit", 1);
            await entered.Task.WaitAsync(TestTimeouts.Default);
            await caller.PublishAsync("audit", 2);

            var after = 0;
            for (var i = 0; i < 20; i++)
                after += await caller.RequestAsync<int, string>("quote", i) == "local" ? 1 : 0;

            Assert.True(
                after > 0,
                $"with one topic message waiting for an unrelated local subscriber, the local provider answered {after} of 20 "
                + $"sequential requests (it answered {before} of 20 before): a topic backlog is no load of its services.");
        }
        finally
        {
            gate.TrySetResult();
        }
    }

    [Fact]
    public async Task Least_outstanding_groups_must_keep_a_node_whose_many_subscribers_are_all_at_their_limit_the_most_loaded()
    {
        // docs/messaging.md, Groups: for the publishing node itself, the load is "what waits for its callback subscribers,
        // and as full as can be when one is at its backlog limit". Here 1,025 of them are at their limit.
        var balanced = new MessagingOptions { TopicGroupBalancer = LoadBalancers.LeastOutstanding, SubscriberBacklogLimit = 2 };
        var publisher = await Start("workers", messaging: balanced);
        var worker = await Start("workers", messaging: balanced);

        var localJobs = 0;
        var remoteJobs = 0;
        using var localJob = publisher.Subscribe<int>("jobs", (_, _) =>
        {
            Interlocked.Increment(ref localJobs);
            return default;
        });
        await localJob.Ready;
        using var remoteJob = worker.Subscribe<int>("jobs", (_, _) =>
        {
            Interlocked.Increment(ref remoteJobs);
            return default;
        });
        await remoteJob.Ready;
        // The publisher knows the remote member of its group: with nothing queued, the two take turns.
        await AwaitConditionAsync(
            async () =>
            {
                await publisher.PublishAsync("jobs", 0);
                return Volatile.Read(ref remoteJobs) > 0;
            },
            TestTimeouts.Long,
            message: "a job reaching the remote member of the group");

        const int stuck = 1_025;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = 0;
        var subscriptions = new List<MeshRegistration>();
        try
        {
            for (var i = 0; i < stuck; i++)
            {
                var subscription = publisher.Subscribe<int>("busy", async (_, _) =>
                {
                    Interlocked.Increment(ref entered);
                    await gate.Task;
                });
                subscriptions.Add(subscription);
                await subscription.Ready;
            }

            // Each takes one message and hangs in it; two more wait for each: every one at its limit of 2.
            await publisher.PublishAsync("busy", 1);
            await AwaitConditionAsync(() => Volatile.Read(ref entered) == stuck, TestTimeouts.Long, message: "every busy subscriber in its callback");
            await publisher.PublishAsync("busy", 2);
            await publisher.PublishAsync("busy", 3);

            var localBefore = Volatile.Read(ref localJobs);
            var remoteBefore = Volatile.Read(ref remoteJobs);
            for (var i = 0; i < 50; i++)
                await publisher.PublishAsync("jobs", i);
            await AwaitConditionAsync(
                () => Volatile.Read(ref localJobs) - localBefore + Volatile.Read(ref remoteJobs) - remoteBefore == 50,
                TestTimeouts.Long,
                message: "the 50 jobs delivered");

            var local = Volatile.Read(ref localJobs) - localBefore;
            Assert.True(
                local == 0,
                $"{local} of 50 jobs went to the publisher's own member, whose {stuck} callback subscribers are all at their "
                + $"backlog limit, and {Volatile.Read(ref remoteJobs) - remoteBefore} to the idle remote member.");
        }
        finally
        {
            gate.TrySetResult();
            foreach (var subscription in subscriptions)
                subscription.Dispose();
        }
    }

    [Fact]
    public async Task Least_outstanding_must_not_keep_a_groups_stream_on_the_publishers_full_member_when_a_request_to_the_other_member_is_unanswered()
    {
        // docs/messaging.md, Groups: least-outstanding counts, for the publishing node itself, "what waits for its callback
        // subscribers, and as full as can be when one is at its backlog limit". The publisher has one request in flight
        // to the other member of its group, on an unrelated service: the other member takes topic messages at once.
        var balanced = new MessagingOptions { TopicGroupBalancer = LoadBalancers.LeastOutstanding, SubscriberBacklogLimit = 200 };
        var publisher = await Start("workers", messaging: balanced);
        var worker = await Start("workers", messaging: balanced);
        await WaitConnected(publisher, worker);

        var remoteJobs = 0;
        using var remoteJob = worker.Subscribe<int>("jobs", (_, _) =>
        {
            Interlocked.Increment(ref remoteJobs);
            return default;
        });
        await remoteJob.Ready;

        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var slow = worker.AddService<int, int>("slow", async (request, _, _) =>
        {
            running.TrySetResult();
            await release.Task;
            return request;
        });
        await slow.Ready;

        // The publisher's own member is stuck in its callback: messages queue up for it.
        var stuck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var localJobs = 0;
        using var localJob = publisher.Subscribe<int>("jobs", async (_, _) =>
        {
            Interlocked.Increment(ref localJobs);
            await stuck.Task;
        });
        await localJob.Ready;
        await AwaitConditionAsync(
            () => publisher.MessagingLayer.Routes.Current.Topic("jobs")?.Groups.SingleOrDefault()?.Count == 2,
            TestTimeouts.Default,
            message: "the publisher routing jobs to both members of its group");

        var call = publisher.RequestAsync<int, int>("slow", 1, new RequestOptions { WaitForProvider = TestTimeouts.Default, Timeout = TestTimeouts.Long * 2 });
        try
        {
            await running.Task.WaitAsync(TestTimeouts.Default);

            var stream = Task.Run(async () =>
            {
                for (var i = 0; i < 3_000; i++)
                    await publisher.PublishAsync("jobs", i);
            });
            var outcome = await Record.ExceptionAsync(() => stream.WaitAsync(TestTimeouts.Default));
            Assert.True(
                outcome is null,
                $"the stream stalled ({outcome?.GetType().Name}): with one request unanswered by the other member, least-outstanding "
                + $"kept choosing the publisher's own member, whose backlog is at its limit of 200 ({Volatile.Read(ref localJobs)} taken, "
                + $"backlog load {publisher.MessagingLayer.LocalTopicCandidate.QueuedBytes}), over the idle remote member "
                + $"({Volatile.Read(ref remoteJobs)} jobs).");
        }
        finally
        {
            stuck.TrySetResult();
            release.TrySetResult();
            await Record.ExceptionAsync(() => call);
        }
    }

    [Fact]
    public async Task Least_outstanding_groups_must_count_the_publishers_requests_to_itself_as_they_count_those_to_the_other_members()
    {
        // docs/messaging.md, Groups: least-outstanding picks "the node with the fewest of this node's requests unanswered,
        // then the fewest bytes queued for it ...; equally loaded nodes take turns". RouteCandidate: "The same instance
        // stands for a node for as long as it is connected, so its counters are live." The publisher has one request
        // unanswered by each member of its group (itself and the other): the two are equally loaded and must take turns.
        var balanced = new MessagingOptions { TopicGroupBalancer = LoadBalancers.LeastOutstanding, ServiceBalancer = LoadBalancers.LeastOutstanding };
        var publisher = await Start("workers", messaging: balanced);
        var worker = await Start("workers", messaging: balanced);
        await WaitConnected(publisher, worker);

        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = new ConcurrentDictionary<string, int>();
        var services = new List<MeshRegistration>();
        foreach (var node in new[] { publisher, worker })
        {
            var service = node.AddService<int, int>("slow", async (request, _, _) =>
            {
                running.AddOrUpdate(node.Id, 1, (_, n) => n + 1);
                await release.Task;
                return request;
            });
            services.Add(service);
            await service.Ready;
        }

        var jobs = new ConcurrentDictionary<string, int>();
        foreach (var node in new[] { publisher, worker })
        {
            var subscription = node.Subscribe<int>("jobs", (_, _) =>
            {
                jobs.AddOrUpdate(node.Id, 1, (_, n) => n + 1);
                return default;
            });
            services.Add(subscription);
            await subscription.Ready;
        }

        await AwaitConditionAsync(
            () => publisher.MessagingLayer.Routes.Current.Topic("jobs")?.Groups.SingleOrDefault()?.Count == 2
                && publisher.MessagingLayer.Routes.Current.Service("slow")?.Providers.Count == 2,
            TestTimeouts.Default,
            message: "the publisher routing jobs and slow to both members of its group");

        var calls = new List<Task<int>>();
        try
        {
            // Two requests: least-outstanding sends the second to the provider the first did not go to.
            calls.Add(publisher.RequestAsync<int, int>("slow", 1, new RequestOptions { Timeout = TestTimeouts.Long * 2 }));
            await AwaitConditionAsync(() => running.Values.Sum() == 1, TestTimeouts.Default, message: "the first request running");
            calls.Add(publisher.RequestAsync<int, int>("slow", 2, new RequestOptions { Timeout = TestTimeouts.Long * 2 }));
            await AwaitConditionAsync(
                () => running.GetValueOrDefault(publisher.Id) == 1 && running.GetValueOrDefault(worker.Id) == 1,
                TestTimeouts.Default,
                message: "one request running on each member");

            // One job at a time, each delivered (and nothing queued anywhere) before the next.
            const int count = 20;
            for (var i = 0; i < count; i++)
            {
                await publisher.PublishAsync("jobs", i);
                var expected = i + 1;
                await AwaitConditionAsync(
                    () => jobs.Values.Sum() == expected
                        && publisher.MessagingLayer.LocalTopicCandidate.QueuedBytes == 0
                        && publisher.DescribePeers().Single(peer => peer.NodeId == worker.Id).QueuedBytes == 0,
                    TestTimeouts.Default,
                    message: $"job {i} delivered");
            }

            var remote = jobs.GetValueOrDefault(worker.Id);
            var group = publisher.MessagingLayer.Routes.Current.Topic("jobs")!.Groups.Single();
            Assert.True(
                remote > 0,
                $"{jobs.GetValueOrDefault(publisher.Id)} of {count} jobs went to the publisher's own member and {remote} to the other, "
                + $"though the publisher has one request unanswered by each. The group's candidates report outstanding requests "
                + $"[{string.Join(", ", group.Select(c => $"{(c.IsLocal ? "local" : "remote")}={c.OutstandingRequests}"))}]; the local "
                + $"service candidate reports {publisher.MessagingLayer.LocalCandidate.OutstandingRequests}.");
        }
        finally
        {
            release.TrySetResult();
            foreach (var call in calls)
                await Record.ExceptionAsync(() => call);
            foreach (var registration in services)
                registration.Dispose();
        }
    }
}
