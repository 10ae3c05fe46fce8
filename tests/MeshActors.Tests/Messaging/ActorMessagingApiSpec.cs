using MeshActors.Actors;
using MeshActors.Messaging;
using Xunit.Abstractions;

namespace MeshActors.Tests.Messaging;

using MeshActors.TestKit;

/// <summary>The router and services actors as applications' actors and TestKit probes use them (docs/messaging.md, From actors).</summary>
public sealed class ActorMessagingApiSpec(ITestOutputHelper output) : TestKit(output), IAsyncLifetime
{
    private readonly List<MessagingNode> _nodes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
            await node.DisposeAsync();
    }

    [Fact]
    public async Task An_actor_subscriber_must_get_no_message_after_its_UnsubscribeAck_though_a_publish_was_under_way()
    {
        // A publish reads the routing table, then picks the group member, then tells the local subscribers. The balancer
        // (called on the publishing thread, between the two) holds this one publish there while the actor unsubscribes.
        var balancer = new HoldFirstSelect();
        var a = await Node("workers", Sys, new MessagingOptions { TopicGroupBalancer = balancer });
        var b = await Node("workers"); // the same name: one group with a, so a's publish asks the balancer
        LoopbackPeer.Connect(a, b);
        await b.Messaging.Subscribe<int>("t", (_, _) => default).Ready.WaitAsync(TestTimeouts.Default);
        var subscriber = CreateTestProbe();
        subscriber.Send(a.Messaging.TopicRouter, new Subscribe("t", subscriber.Ref));
        subscriber.ExpectMsg<SubscribeAck>();
        await a.WaitForTopicNodesAsync("t", 2);

        var publishing = Task.Run(() => a.Messaging.PublishAsync("t", 1).AsTask());
        await balancer.Entered.Task.WaitAsync(TestTimeouts.Default); // the publish has read the table with the subscriber in it

        subscriber.Send(a.Messaging.TopicRouter, new Unsubscribe("t", subscriber.Ref));
        subscriber.ExpectMsg<UnsubscribeAck>();
        balancer.Release(); // it picks this node, whose subscribers it read before the Unsubscribe
        await publishing.WaitAsync(TestTimeouts.Default);

        // UnsubscribeAck: "no further message reaches the subscriber through the subscription that Subscribe messages made";
        // in Akka.NET's DistributedPubSub too, nothing follows the ack.
        subscriber.ExpectNoMsg();
    }

    [Fact]
    public async Task A_Subscribe_or_Unsubscribe_message_without_a_subscriber_must_be_answered_with_a_failure_not_left_unanswered()
    {
        var a = await Node("a", Sys);

        // As a HostService without a handler actor is (docs/messaging.md): the asker is told at once, not left to its timeout.
        a.Messaging.TopicRouter.Tell(new Subscribe("t", null!), TestActor);
        Assert.IsType<ArgumentNullException>(ExpectMsg<Status.Failure>().Cause);

        a.Messaging.TopicRouter.Tell(new Unsubscribe("t", null!), TestActor);
        Assert.IsType<ArgumentNullException>(ExpectMsg<Status.Failure>().Cause);
    }

    [Fact]
    public async Task A_Subscribe_or_HostService_message_for_a_name_UTF8_cannot_carry_must_be_refused_as_the_facade_and_Request_refuse_it()
    {
        var a = await Node("a", Sys);
        const string Name = "prices-\uD800"; // a lone surrogate: on the wire it would become "prices-\uFFFD", a name nobody uses
        var subscriber = CreateTestProbe();
        Assert.Throws<ArgumentException>(() => a.Messaging.Subscribe(Name, subscriber.Ref));
        Assert.Throws<ArgumentException>(() => a.Messaging.AddService(Name, subscriber.Ref));
        a.Messaging.Services.Tell(new Request(Name, 1), TestActor);
        Assert.IsType<ArgumentException>(ExpectMsg<Status.Failure>().Cause);

        a.Messaging.TopicRouter.Tell(new Subscribe(Name, subscriber.Ref), TestActor);
        Assert.IsType<ArgumentException>(Cause(ExpectMsg<object>())); // a SubscribeAck: hosted under a name no other node can reach

        a.Messaging.Services.Tell(new HostService(Name, subscriber.Ref), TestActor);
        Assert.IsType<ArgumentException>(Cause(ExpectMsg<object>()));
    }

    private static object Cause(object answer) => answer is Status.Failure failure ? failure.Cause : answer;

    private async Task<MessagingNode> Node(string name, ActorSystem? system = null, MessagingOptions? options = null)
    {
        var node = await MessagingNode.StartAsync(name, Output!, system, options);
        _nodes.Add(node);
        return node;
    }

    /// <summary>Holds the first selection until released, then picks this node; every later one picks this node at once.</summary>
    private sealed class HoldFirstSelect : ILoadBalancer
    {
        private readonly ManualResetEventSlim _released = new();
        private int _calls;

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _released.Set();

        public int Select(CandidateGroup candidates)
        {
            if (Interlocked.Increment(ref _calls) == 1)
            {
                Entered.TrySetResult();
                _released.Wait(TestTimeouts.Default);
            }

            return candidates.IndexOfLocal();
        }
    }
}
