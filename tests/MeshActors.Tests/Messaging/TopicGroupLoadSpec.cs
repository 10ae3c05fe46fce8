using System.Collections.Concurrent;
using MeshActors.Discovery;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Tests.Mesh;
using MeshActors.Tests.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Messaging;

using MeshActors.TestKit;

/// <summary>Streams to the members of a topic group while one falls behind; real nodes over real HTTP/2 on loopback.</summary>
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
}
