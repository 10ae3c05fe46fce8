using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Testing;
using MeshActors.TestKit;
using MeshActors.Tests.Transport;

namespace MeshActors.Tests.Discovery;

/// <summary>Redis discovery under failure: a keyspace flushed mid-round, meshes apart by database number, a node's own key deleted under it.</summary>
public sealed class RedisDiscoveryFailureSpec(RedisServer redis) : MeshActors.TestKit.TestKit, IAsyncLifetime, IClassFixture<RedisServer>
{
    private readonly List<ActorSystem> _systems = [];
    private readonly List<IRegistry> _registries = [];
    private readonly List<IActorRef> _actors = [];

    private TestLog Logs { get; } = new();

    private string Prefix { get; } = "fail-" + Guid.NewGuid().ToString("N")[..8];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var registry in _registries.OfType<CrashableRegistry>())
            registry.Unblock();
        foreach (var actor in _actors)
        {
            try
            {
                await actor.Ask<LeftMesh>(LeaveMesh.Instance, Dilated(TimeSpan.FromSeconds(10)));
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

    /// <summary>
    /// docs/discovery.md: "A key gone without a deregistration means the keyspace was flushed (FLUSHALL, FLUSHDB) ...
    /// Its registry actor ... gives the others one TTL to write their keys again before it takes their absence for
    /// death." That holds also for a flush that lands after this node's refresh and before its listing reads the
    /// keyspace (a window as long as the listing, which docs/discovery.md says may take seconds over a big keyspace): a
    /// listing that lacks even this node's own key must not be trusted to report every live member expired.
    /// </summary>
    [Fact]
    public async Task A_keyspace_flushed_while_a_round_is_listing_must_not_make_live_members_look_expired()
    {
        // The defaults: the held listing is released long before the next heartbeat.
        DiscoveryOptions Defaults(DiscoveryOptions options) => options with { HeartbeatInterval = TimeSpan.FromSeconds(2), Ttl = TimeSpan.FromSeconds(6) };
        // b is a live node the spec plays itself, so that it writes its key again exactly when the spec says.
        var b = new MeshMember(Guid.NewGuid().ToString(), "billing", "127.0.0.1", 7002) { ProtocolVersion = 1 };
        var keyB = $"{Prefix}:service:{b.Name}:{b.Id}";
        var valueB = RegistrationCodec.EncodeRegistration(b, 64 * 1024);
        await redis.CommandAsync("SET", keyB, valueB, "EX", "60");
        var a = StartNode(configure: Defaults);
        var keyA = $"{Prefix}:service:{a.Self.Name}:{a.Self.Id}";
        var probe = Subscribe(a.Actor);
        ExpectUp(probe, b);

        // a's next round refreshes its key, then begins listing: the keyspace is flushed right then.
        var listed = a.Registry.ListingsStarted;
        a.Registry.HoldListings();
        await AwaitConditionAsync(() => a.Registry.ListingsStarted > listed, TimeSpan.FromSeconds(10), message: "a's next round has refreshed and begins listing");
        Assert.Equal(1L, await redis.CommandAsync("EXISTS", keyA));
        await redis.CommandAsync("DEL", keyA, keyB);
        a.Registry.Unblock();

        // One more round: the held one has been reconciled (a finds its own key gone, and writes it again).
        await AwaitConditionAsync(() => a.Registry.ListingsStarted > listed + 1, TimeSpan.FromSeconds(10), message: "one more round");
        await redis.CommandAsync("SET", keyB, valueB, "EX", "60"); // b's heartbeat: it writes its key again

        var events = probe.ReceiveWhile<MemberEvent>(max: TimeSpan.FromSeconds(3));
        var members = (await a.Actor.Ask<CurrentMembers>(GetMembers.Instance)).Members;
        Assert.True(
            events.Count == 0 && members.Any(m => m.Id == b.Id),
            $"b, live all along, was reported: {string.Join(", ", events.Select(e => e is MemberDown down ? $"MemberDown({down.Reason})" : e.GetType().Name))}; a's members now: {members.Count}");
    }

    /// <summary>
    /// docs/discovery.md: "Meshes share a Redis apart by KeyPrefix, or by database number: the events channel is the
    /// prefix's in every database (pub/sub has no databases)". Only a node on a database other than 0 confirms a join
    /// it hears (RedisRegistry.OnAnnouncement); a node on database 0, the default, takes the join of a node of the mesh
    /// on database 1 for one of its own: MemberUp, and its peer manager dials it.
    /// </summary>
    [Fact]
    public async Task A_mesh_on_database_0_must_not_take_the_join_of_a_node_on_another_database_for_a_member()
    {
        // Heartbeats far apart: after a's first round, only the change feed can tell a of anyone.
        DiscoveryOptions Slow(DiscoveryOptions options) => options with { HeartbeatInterval = TimeSpan.FromSeconds(30), Ttl = TimeSpan.FromSeconds(60) };
        var a = StartNode(configure: Slow); // database 0: "127.0.0.1:{port}"
        var keyA = $"{Prefix}:service:{a.Self.Name}:{a.Self.Id}";
        await AwaitConditionAsync(async () => await redis.CommandAsync("EXISTS", keyA) is 1L, TimeSpan.FromSeconds(10), message: "a registers (and listens)");
        var probe = Subscribe(a.Actor);
        var stranger = RegistryFactory.Create(Slow(Options()) with { Registry = $"redis://{redis.ConnectionString}/1" }, Logs);
        _registries.Add(stranger);
        var neighbour = RegistryFactory.Create(Slow(Options()), Logs);
        _registries.Add(neighbour);
        var inOtherDatabase = new MeshMember(Guid.NewGuid().ToString(), "billing", "127.0.0.1", 7002) { ProtocolVersion = 1 };
        var inThisDatabase = new MeshMember(Guid.NewGuid().ToString(), "billing", "127.0.0.1", 7003) { ProtocolVersion = 1 };

        // Published in this order, heard in this order: the stranger's join would come first.
        await stranger.RegisterAsync(inOtherDatabase);
        await neighbour.RegisterAsync(inThisDatabase);

        var seen = new List<MemberEvent>();
        probe.FishForMessage<MemberEvent>(e => { seen.Add(e); return e is MemberUp && e.Member.Id == inThisDatabase.Id; }, TimeSpan.FromSeconds(10));
        Assert.True(
            !seen.Any(e => e.Member.Id == inOtherDatabase.Id),
            $"a node registered in database 1 was reported to a mesh on database 0: {string.Join(", ", seen.Select(e => $"{e.GetType().Name}({(e.Member.Id == inOtherDatabase.Id ? "database 1" : "database 0")})"))}");
        await redis.CommandAsync("DEL", $"{Prefix}:service:{inThisDatabase.Name}:{inThisDatabase.Id}");
    }

    /// <summary>
    /// IRegistry.ConnectionStateChanged is "raised once per change of ConnectionState", and the health check is degraded
    /// "while its registry is not reachable or its registry calls fail". A node whose own key is deleted under it (an
    /// operator's DEL, an eviction) re-registers at its next heartbeat, every call succeeding on a live connection; yet
    /// RedisRegistry.RefreshAsync raises Disconnected then Connected while ConnectionState stays Connected, and the
    /// registry actor takes it for a lost connection: warning 7011 "unavailable (connection lost)" and
    /// RegistryAvailabilityChanged(false), the hosting health check degraded until the next heartbeat's round.
    /// </summary>
    [Fact]
    public async Task A_node_whose_own_key_was_deleted_must_register_again_without_reporting_the_registry_unavailable()
    {
        var a = StartNode();
        var keyA = $"{Prefix}:service:{a.Self.Name}:{a.Self.Id}";
        var availability = CreateTestProbe();
        a.System.EventStream.Subscribe<RegistryAvailabilityChanged>(availability.Ref);
        await AwaitConditionAsync(async () => await redis.CommandAsync("EXISTS", keyA) is 1L, TimeSpan.FromSeconds(10), message: "a registers");
        await AwaitConditionAsync(() => a.Registry.ListingsStarted >= 2, TimeSpan.FromSeconds(10), message: "a's first round is over");
        availability.ReceiveWhile<RegistryAvailabilityChanged>(max: TimeSpan.FromMilliseconds(100)); // the first round's Available: true, if it came after the subscription
        var states = new System.Collections.Concurrent.ConcurrentQueue<RegistryConnectionState>();
        a.Registry.ConnectionStateChanged += states.Enqueue;

        await redis.CommandAsync("DEL", keyA);

        await AwaitConditionAsync(async () => await redis.CommandAsync("EXISTS", keyA) is 1L, TimeSpan.FromSeconds(10), message: "a registers again");
        // Two more rounds: the one that found the key gone, and one after it, have both been handled by the actor.
        var listed = a.Registry.ListingsStarted;
        await AwaitConditionAsync(() => a.Registry.ListingsStarted >= listed + 2, TimeSpan.FromSeconds(10), message: "two more rounds");
        Assert.Equal(1, Logs.Count(7021)); // the loss is logged, as documented
        Assert.Equal(RegistryConnectionState.Connected, a.Registry.ConnectionState);
        var reported = availability.ReceiveWhile<RegistryAvailabilityChanged>(max: TimeSpan.FromMilliseconds(200));
        Assert.True(
            reported.All(r => r.Available) && Logs.Count(7011) == 0 && states.IsEmpty,
            $"Redis answered every call, yet the node reported: {string.Join(", ", reported.Select(r => $"Available={r.Available} ({r.Reason})"))}; "
            + $"7011 (unavailable) logged {Logs.Count(7011)} times; ConnectionStateChanged raised [{string.Join(", ", states)}] while ConnectionState stayed Connected");
    }

    private DiscoveryOptions Options() => new()
    {
        Registry = redis.ConnectionString,
        KeyPrefix = Prefix,
        Ttl = TimeSpan.FromSeconds(2),
        HeartbeatInterval = TimeSpan.FromMilliseconds(250),
        CommandTimeout = Dilated(TimeSpan.FromSeconds(5)),
        RetryBackoffMin = TimeSpan.FromMilliseconds(50),
    };

    private Node StartNode(string name = "orders", Func<DiscoveryOptions, DiscoveryOptions>? configure = null)
    {
        var system = ActorSystem.Create("fail-node-" + _systems.Count, new ActorSystemOptions { LoggerFactory = Logs });
        _systems.Add(system);
        var options = configure?.Invoke(Options()) ?? Options();
        var registry = new CrashableRegistry(RegistryFactory.Create(options, Logs));
        _registries.Add(registry);
        var self = new MeshMember(Guid.NewGuid().ToString(), name, "127.0.0.1", 7001) { ProtocolVersion = 1, Topics = ["prices"] };
        var actor = system.ActorOf(RegistryActor.Props(registry, self, options), "registry");
        _actors.Add(actor);
        return new Node(system, actor, self, registry);
    }

    private TestProbe Subscribe(IActorRef node)
    {
        var probe = CreateTestProbe();
        node.Tell(new SubscribeMembers(probe.Ref));
        probe.ExpectMsg<CurrentMembers>();
        return probe;
    }

    private static void ExpectUp(TestProbe probe, MeshMember member) =>
        probe.FishForMessage<MemberUp>(e => e.Member.Id == member.Id, TimeSpan.FromSeconds(5));

    private sealed record Node(ActorSystem System, IActorRef Actor, MeshMember Self, CrashableRegistry Registry);
}
