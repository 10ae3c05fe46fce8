using System.Diagnostics;
using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Testing;

namespace MeshActors.Tests.Discovery;

using MeshActors.TestKit;
using MeshActors.Tests.Transport;

/// <summary>What the registry actor does on every backend: joins, leaves, crashes, updates, subscriptions.</summary>
/// <remarks>Each node has an actor system of its own, as separate processes would.</remarks>
public abstract class RegistryActorContract : TestKit, IAsyncLifetime
{
    // Eight heartbeats per TTL: a node starved by a busy test machine for a second is not taken for dead.
    protected static readonly TimeSpan Ttl = TimeSpan.FromSeconds(2);
    protected static readonly TimeSpan Heartbeat = TimeSpan.FromMilliseconds(250);

    private readonly List<ActorSystem> _systems = [];
    private readonly List<IRegistry> _registries = [];
    private readonly List<Node> _nodes = [];

    protected TestLog Logs { get; } = new();

    protected string Prefix { get; } = "spec-" + Guid.NewGuid().ToString("N")[..8];

    protected abstract string RegistrySetting { get; }

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        // Each node leaves before its system stops: a plain stop deregisters in the background, racing the clean-up.
        foreach (var node in _nodes)
        {
            node.Registry.Unblock();
            try
            {
                await node.Actor.Ask<LeftMesh>(LeaveMesh.Instance, Dilated(TimeSpan.FromSeconds(10)));
            }
            catch (ActorTerminatedException)
            {
                // stopped by the spec itself
            }
        }

        foreach (var system in _systems)
            await system.Terminate();
        foreach (var registry in _registries)
            await registry.DisposeAsync();
    }

    protected DiscoveryOptions Options() => new()
    {
        Registry = RegistrySetting,
        KeyPrefix = Prefix,
        Ttl = Ttl,
        HeartbeatInterval = Heartbeat,
        CommandTimeout = Dilated(TimeSpan.FromSeconds(5)),
        RetryBackoffMin = TimeSpan.FromMilliseconds(50),
    };

    protected static MeshMember NewMember(string name = "orders") =>
        new(Guid.NewGuid().ToString(), name, "127.0.0.1", 7001) { ProtocolVersion = 1, Topics = ["prices"] };

    /// <summary>Starts a node: a registry actor in an actor system of its own, over a registry it can crash.</summary>
    protected Node StartNode(string name = "orders", Func<DiscoveryOptions, DiscoveryOptions>? configure = null)
    {
        var system = ActorSystem.Create("node-" + _systems.Count, new ActorSystemOptions { LoggerFactory = Logs });
        _systems.Add(system);
        var options = configure?.Invoke(Options()) ?? Options();
        var crashable = new CrashableRegistry(RegistryFactory.Create(options, Logs));
        _registries.Add(crashable);
        var self = NewMember(name);
        var node = new Node(system, system.ActorOf(RegistryActor.Props(crashable, self, options), "registry"), self, crashable);
        _nodes.Add(node);
        return node;
    }

    /// <summary>Subscribes a fresh probe to a node's membership and checks the snapshot that comes first.</summary>
    protected TestProbe Subscribe(Node node, params MeshMember[] expectedNow)
    {
        var probe = CreateTestProbe();
        node.Actor.Tell(new SubscribeMembers(probe.Ref));
        var current = probe.ExpectMsg<CurrentMembers>();
        Assert.Equal(expectedNow.Select(m => m.Id).Order(), current.Members.Select(m => m.Id).Order());
        return probe;
    }

    protected static MemberUp ExpectUp(TestProbe probe, MeshMember member, TimeSpan? timeout = null) =>
        probe.FishForMessage<MemberUp>(e => e.Member.Id == member.Id, timeout ?? TimeSpan.FromSeconds(5));

    protected static MemberDown ExpectDown(TestProbe probe, MeshMember member, TimeSpan? timeout = null) =>
        probe.FishForMessage<MemberDown>(e => e.Member.Id == member.Id, timeout ?? TimeSpan.FromSeconds(5));

    [Fact]
    public async Task SubscribeMembers_must_answer_with_the_current_members_then_each_join()
    {
        var a = StartNode();
        var b = StartNode("billing");
        await AwaitConditionAsync(async () => (await a.Actor.Ask<CurrentMembers>(GetMembers.Instance)).Members.Any(m => m.Id == b.Self.Id), TimeSpan.FromSeconds(5));

        var probe = Subscribe(a, b.Self);
        var c = StartNode();

        var up = ExpectUp(probe, c.Self);
        Assert.Equal(c.Self.Topics, up.Member.Topics);
        Assert.Equal(1, up.Member.ProtocolVersion);
    }

    [Fact]
    public async Task A_join_must_be_published_on_the_event_stream_through_the_change_feed_without_waiting_for_a_heartbeat()
    {
        // Heartbeats far apart: within the test only the change feed can tell a about b.
        DiscoveryOptions Slow(DiscoveryOptions options) => options with { HeartbeatInterval = TimeSpan.FromSeconds(30), Ttl = TimeSpan.FromSeconds(60) };
        var a = StartNode(configure: Slow);
        var events = CreateTestProbe();
        a.System.EventStream.Subscribe<MemberEvent>(events.Ref);
        await AwaitConditionAsync(async () => (await a.Registry.ListAsync()).Members.Any(m => m.Id == a.Self.Id), TimeSpan.FromSeconds(5));

        var b = StartNode(configure: Slow);

        events.FishForMessage<MemberUp>(e => e.Member.Id == b.Self.Id, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task LeaveMesh_must_deregister_at_once_and_others_must_see_MemberDown_Left()
    {
        var a = StartNode();
        var probe = Subscribe(a);
        var b = StartNode();
        ExpectUp(probe, b.Self);

        var leaving = Stopwatch.StartNew();
        Assert.Same(LeftMesh.Instance, await b.Actor.Ask<LeftMesh>(LeaveMesh.Instance, TimeSpan.FromSeconds(5)));

        var down = ExpectDown(probe, b.Self);
        Assert.Equal(MemberDownReason.Left, down.Reason);
        Assert.True(leaving.Elapsed < Ttl, $"the leave took {leaving.Elapsed}, as long as an expiry");
        Assert.DoesNotContain((await b.Registry.ListAsync()).Members, m => m.Id == b.Self.Id);
    }

    [Fact]
    public void Stopping_the_actor_must_deregister_the_node()
    {
        var a = StartNode();
        var probe = Subscribe(a);
        var b = StartNode();
        ExpectUp(probe, b.Self);

        b.System.Stop(b.Actor);

        Assert.Equal(MemberDownReason.Left, ExpectDown(probe, b.Self).Reason);
    }

    [Fact]
    public void A_crashed_node_must_be_seen_down_within_its_ttl_and_one_heartbeat()
    {
        var a = StartNode();
        var probe = Subscribe(a);
        var b = StartNode();
        ExpectUp(probe, b.Self);

        var crashedAt = Stopwatch.StartNew();
        b.Registry.Crash();

        var down = ExpectDown(probe, b.Self, TimeSpan.FromSeconds(10));
        Assert.Equal(MemberDownReason.Expired, down.Reason);
        var limit = Ttl + Heartbeat + Dilated(TimeSpan.FromSeconds(1));
        Assert.True(crashedAt.Elapsed <= limit, $"seen down {crashedAt.Elapsed} after the crash, more than {limit}");
    }

    [Fact]
    public void UpdateSelf_must_reach_the_other_nodes_as_MemberUpdated()
    {
        var a = StartNode();
        var probe = Subscribe(a);
        var b = StartNode();
        ExpectUp(probe, b.Self);

        b.Actor.Tell(new UpdateSelf(b.Self with { Topics = ["prices", "news"], Services = ["quote"] }));

        var updated = probe.FishForMessage<MemberUpdated>(e => e.Member.Id == b.Self.Id, TimeSpan.FromSeconds(5));
        Assert.Equal(["prices", "news"], updated.Member.Topics);
        Assert.Equal(["quote"], updated.Member.Services);
    }

    [Fact]
    public void UpdateSelf_must_refuse_a_registration_that_would_corrupt_the_keyspace()
    {
        var a = StartNode();
        Subscribe(a);

        a.Actor.Tell(new UpdateSelf(a.Self with { Name = "billing:eu" }), TestActor);

        var failure = ExpectMsg<Status.Failure>();
        Assert.Contains("':'", failure.Cause.Message);
    }

    [Fact]
    public async Task UpdateSelf_must_refuse_a_new_name_which_would_leave_the_old_registration_behind()
    {
        var a = StartNode();
        Subscribe(a);

        a.Actor.Tell(new UpdateSelf(a.Self with { Name = "billing" }), TestActor);

        var failure = ExpectMsg<Status.Failure>();
        Assert.Contains("name cannot change", failure.Cause.Message);
        await AwaitConditionAsync(async () => (await a.Registry.ListAsync()).Members.Any(m => m.Id == a.Self.Id), TimeSpan.FromSeconds(5), message: "a registers");
        Assert.Equal("orders", Assert.Single((await a.Registry.ListAsync()).Members, m => m.Id == a.Self.Id).Name);
    }

    [Fact]
    public async Task Membership_questions_must_be_answered_while_a_registry_call_blocks_its_thread()
    {
        var a = StartNode();
        var probe = Subscribe(a);
        var b = StartNode();
        ExpectUp(probe, b.Self);

        a.Registry.Block(); // a backend doing synchronous I/O on a file system that hangs
        try
        {
            await AwaitConditionAsync(() => a.Registry.BlockedCalls > 0, TimeSpan.FromSeconds(5), message: "the next round blocks");

            var current = await a.Actor.Ask<CurrentMembers>(GetMembers.Instance, Dilated(TimeSpan.FromSeconds(3)));

            Assert.Contains(current.Members, m => m.Id == b.Self.Id);
        }
        finally
        {
            a.Registry.Unblock();
        }
    }

    [Fact]
    public async Task Heartbeats_must_keep_a_node_listed_past_its_ttl_without_events_for_others()
    {
        var a = StartNode();
        var probe = Subscribe(a);
        var b = StartNode();
        ExpectUp(probe, b.Self);

        probe.ExpectNoMsg(Ttl * 2);

        Assert.Contains((await a.Actor.Ask<CurrentMembers>(GetMembers.Instance)).Members, m => m.Id == b.Self.Id);
    }

    [Fact]
    public async Task A_listing_slower_than_the_ttl_must_not_let_the_node_registration_expire()
    {
        var a = StartNode();
        var probe = Subscribe(a);
        var b = StartNode();
        ExpectUp(probe, b.Self);
        var listings = b.Registry.ListingsStarted;

        b.Registry.HoldListings();
        await AwaitConditionAsync(() => b.Registry.ListingsStarted > listings, TimeSpan.FromSeconds(5), message: "b's next listing begins, and hangs");

        probe.ExpectNoMsg(Ttl * 2); // b's heartbeats go on: a does not take it for expired
        b.Registry.Unblock();
    }

    /// <summary>One running node.</summary>
    protected sealed record Node(ActorSystem System, IActorRef Actor, MeshMember Self, CrashableRegistry Registry);
}
