using System.Diagnostics;
using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Testing;
using MeshActors.Tests.Transport;

namespace MeshActors.Tests.Discovery;

using MeshActors.TestKit;

/// <summary>The local directory registry under live registry actors: wipes, updates and leaves, as separate processes see them.</summary>
public sealed class LocalDirectoryEdgeSpec : TestKit, IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "meshactors-spec-" + Guid.NewGuid().ToString("N"));
    private readonly string _prefix = "spec-" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<IRegistry> _registries = [];
    private readonly List<ActorSystem> _systems = [];
    private readonly List<IActorRef> _nodes = [];

    private TestLog Logs { get; } = new();

    private string RegistryDirectory => Path.Combine(_root, _prefix);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            try
            {
                await node.Ask<LeftMesh>(LeaveMesh.Instance, Dilated(TimeSpan.FromSeconds(10)));
            }
            catch (ActorTerminatedException)
            {
            }
        }

        foreach (var system in _systems)
            await system.Terminate();
        foreach (var registry in _registries)
            await registry.DisposeAsync();
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    private DiscoveryOptions Options(TimeSpan ttl, TimeSpan heartbeat) => new()
    {
        Registry = "local:" + _root,
        KeyPrefix = _prefix,
        Ttl = ttl,
        HeartbeatInterval = heartbeat,
        CommandTimeout = Eventually.Scaled(TimeSpan.FromSeconds(5)),
        RetryBackoffMin = TimeSpan.FromMilliseconds(50),
    };

    private static MeshMember NewMember(string name = "orders") =>
        new(Guid.NewGuid().ToString(), name, "127.0.0.1", 7001) { ProtocolVersion = 1, Topics = ["prices"] };

    /// <summary>A registry actor in an actor system of its own, as in a process of its own.</summary>
    private (IActorRef Actor, MeshMember Self, CrashableRegistry Registry) StartNode(DiscoveryOptions options)
    {
        var system = ActorSystem.Create("node-" + _systems.Count, new ActorSystemOptions { LoggerFactory = Logs });
        _systems.Add(system);
        var registry = new CrashableRegistry(RegistryFactory.Create(options, Logs));
        _registries.Add(registry);
        var self = NewMember();
        var actor = system.ActorOf(RegistryActor.Props(registry, self, options), "registry");
        _nodes.Add(actor);
        return (actor, self, registry);
    }

    [Fact]
    public async Task A_wiped_directory_must_not_take_live_nodes_for_dead_when_the_next_write_is_an_update()
    {
        // docs/discovery.md: a directory wiped under live nodes is a registry that lost its keys; each node finds its own
        // entry gone, logs it (7021) and gives the others one TTL to write theirs. The 7021 line says so too. Here the
        // node's first write after the wipe is a registration (its topics changed), not a heartbeat's refresh.
        var options = Options(ttl: TimeSpan.FromSeconds(12), heartbeat: TimeSpan.FromSeconds(3));
        var a = StartNode(options);
        var b = StartNode(options);
        var probe = CreateTestProbe();
        a.Actor.Tell(new SubscribeMembers(probe.Ref));
        probe.FishForMessage<MemberUp>(e => e.Member.Id == b.Self.Id, TimeSpan.FromSeconds(10));
        var feed = new EventRecorder<RegistryChange>();
        a.Registry.Changed += feed.Add;

        // Right after a's own heartbeat (announced on its feed), so neither node heartbeats before a's update round.
        await feed.ExpectAsync<MemberRegistered>(e => e.NodeId == a.Self.Id, TimeSpan.FromSeconds(10));
        // Retried: a node may write its entry while the directory is being deleted ("Directory not empty").
        await Eventually.UntilAsync(() => Task.FromResult(TryDelete(RegistryDirectory)), gone => gone, TimeSpan.FromSeconds(5), "the directory is wiped");
        a.Actor.Tell(new UpdateSelf(a.Self with { Topics = ["prices", "quotes"] }), ActorRefs.NoSender);

        // b writes its entry again at its next heartbeat, and a lists it twice after that.
        var bEntry = Path.Combine(RegistryDirectory, b.Self.Id + ".json");
        await AwaitConditionAsync(() => File.Exists(bEntry), TimeSpan.FromSeconds(10), message: "b writes its entry again");
        var listings = a.Registry.ListingsStarted;
        await AwaitConditionAsync(() => a.Registry.ListingsStarted >= listings + 2, TimeSpan.FromSeconds(10), message: "a lists twice after b is back");
        await a.Actor.Ask<CurrentMembers>(GetMembers.Instance, Dilated(TimeSpan.FromSeconds(3)));

        var events = probe.ReceiveWhile<object>(_ => true, max: TimeSpan.FromMilliseconds(300));
        Assert.InRange(Logs.Count(7021, a.Self.Id), 1, 2); // the registry saw the loss (twice when the wipe took two passes)...
        var flaps = events.OfType<MemberEvent>().Where(e => e is MemberDown or MemberUp && e.Member.Id == b.Self.Id).ToArray();
        Assert.True(flaps.Length == 0, $"a took b, which never stopped heartbeating, for dead and back: {string.Join(", ", flaps.Select(e => e.GetType().Name + (e is MemberDown d ? $"({d.Reason})" : "")))}");
    }

    [Fact]
    public void An_update_that_fits_the_cap_only_without_the_lease_must_be_refused_not_drop_the_node_from_the_mesh()
    {
        // The registry actor checks a registration against MaxRegistrationBytes at creation and at UpdateSelf ("fail at
        // creation, not at every heartbeat"; an update it cannot register is answered with Status.Failure). The local
        // backend writes the registration plus "lease_expires_at", some 50 bytes more, and checks the cap again then.
        var options = Options(ttl: TimeSpan.FromSeconds(3), heartbeat: TimeSpan.FromMilliseconds(500)) with { MaxRegistrationBytes = 1024 };
        var a = StartNode(options);
        var b = StartNode(options);
        var probe = CreateTestProbe();
        b.Actor.Tell(new SubscribeMembers(probe.Ref));
        probe.FishForMessage<MemberUp>(e => e.Member.Id == a.Self.Id, TimeSpan.FromSeconds(10));

        var bare = RegistrationCodec.Encode(a.Self with { Topics = [""] }).Length;
        var big = a.Self with { Topics = [new string('t', options.MaxRegistrationBytes - 10 - bare)] };
        Assert.InRange(RegistrationCodec.EncodeRegistration(big, options.MaxRegistrationBytes).Length, options.MaxRegistrationBytes - 10, options.MaxRegistrationBytes);

        a.Actor.Tell(new UpdateSelf(big), probe.Ref);

        // Either outcome is fine: refused (a stays registered as it was) or registered (b sees the update).
        var outcome = probe.FishForMessage<object>(
            m => m is Status.Failure || (m is MemberEvent e && e.Member.Id == a.Self.Id && e is MemberUpdated or MemberDown),
            TimeSpan.FromSeconds(15));
        Assert.False(outcome is MemberDown, $"b took a, which runs on, for dead ({outcome}): a's update passed the actor's size check but every write of it failed, so a's entry expired");
    }

    private static bool TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return !Directory.Exists(directory);
    }
}
