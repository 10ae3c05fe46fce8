using System.Diagnostics;
using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Testing;
using MeshActors.Tests.Transport;

namespace MeshActors.Tests.Discovery;

using MeshActors.TestKit;

/// <summary>What others may do to a local registry directory: plant links to FIFOs, wipe it under live nodes, hand the registry odd ids.</summary>
public sealed class LocalDirectoryTamperingSpec : TestKit, IAsyncLifetime
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Heartbeat = TimeSpan.FromMilliseconds(250);

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
        // Each node leaves before its system stops, so no heartbeat recreates the directory after the clean-up.
        foreach (var node in _nodes)
            await node.Ask<LeftMesh>(LeaveMesh.Instance, Dilated(TimeSpan.FromSeconds(10)));
        foreach (var system in _systems)
            await system.Terminate();
        foreach (var registry in _registries)
            await registry.DisposeAsync();
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    private DiscoveryOptions Options(TimeSpan? commandTimeout = null) => new()
    {
        Registry = "local:" + _root,
        KeyPrefix = _prefix,
        Ttl = Ttl,
        HeartbeatInterval = Heartbeat,
        CommandTimeout = commandTimeout ?? Eventually.Scaled(TimeSpan.FromSeconds(5)),
        RetryBackoffMin = TimeSpan.FromMilliseconds(50),
    };

    private IRegistry NewRegistry(TimeSpan? commandTimeout = null)
    {
        var registry = RegistryFactory.Create(Options(commandTimeout), Logs);
        _registries.Add(registry);
        return registry;
    }

    private static MeshMember NewMember(string name = "orders") =>
        new(Guid.NewGuid().ToString(), name, "127.0.0.1", 7001) { ProtocolVersion = 1, Topics = ["prices"] };

    /// <summary>A registry actor in an actor system of its own, as in a process of its own.</summary>
    private (IActorRef Actor, MeshMember Self, CrashableRegistry Registry) StartNode()
    {
        var system = ActorSystem.Create("node-" + _systems.Count, new ActorSystemOptions { LoggerFactory = Logs });
        _systems.Add(system);
        var registry = new CrashableRegistry(RegistryFactory.Create(Options(), Logs));
        _registries.Add(registry);
        var self = NewMember();
        var actor = system.ActorOf(RegistryActor.Props(registry, self, Options()), "registry");
        _nodes.Add(actor);
        return (actor, self, registry);
    }

    [Fact]
    public async Task Listing_must_skip_a_symlink_to_a_fifo_named_like_an_entry_without_opening_it()
    {
        // docs/discovery.md: a file that is not a regular file (a FIFO) is skipped and never opened; a bad entry never
        // fails a listing. A symlink's own size is its target's length, so the "empty or not regular" check passes it.
        var registry = NewRegistry(commandTimeout: Eventually.Scaled(TimeSpan.FromSeconds(2)));
        var valid = NewMember();
        await registry.RegisterAsync(valid);
        var fifo = Path.Combine(_root, "a-fifo");
        using (var mkfifo = Process.Start("mkfifo", fifo))
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        File.CreateSymbolicLink(Path.Combine(RegistryDirectory, Guid.NewGuid() + ".json"), fifo);

        try
        {
            var listing = await Task.Run(() => registry.ListAsync()).WaitAsync(Eventually.Scaled(TimeSpan.FromSeconds(10)));

            Assert.Equal([valid.Id], listing.Members.Select(m => m.Id));
            Assert.Contains("not a regular file", Assert.Single(listing.Skipped).Reason);
        }
        finally
        {
            // Opened for reading and writing (which never blocks on Linux), the FIFO lets go of whoever waits on it.
            using (new FileStream(fifo, FileMode.Open, FileAccess.ReadWrite))
            {
            }
        }
    }

    [Fact]
    public async Task Deleting_the_registry_directory_must_neither_take_live_nodes_for_left_nor_silence_the_change_feed()
    {
        var a = StartNode();
        var b = StartNode();
        var probe = CreateTestProbe();
        a.Actor.Tell(new SubscribeMembers(probe.Ref));
        probe.FishForMessage<MemberUp>(e => e.Member.Id == b.Self.Id, TimeSpan.FromSeconds(5));
        var feed = new EventRecorder<RegistryChange>();
        a.Registry.Changed += feed.Add;

        // Someone cleans the temp directory; every node writes its entry again at its next heartbeat.
        Directory.Delete(RegistryDirectory, recursive: true);

        var problems = new List<string>();
        var bEntry = Path.Combine(RegistryDirectory, b.Self.Id + ".json");
        await AwaitConditionAsync(() => File.Exists(bEntry), TimeSpan.FromSeconds(5), message: "b writes its entry again");
        var listings = a.Registry.ListingsStarted;
        await AwaitConditionAsync(() => a.Registry.ListingsStarted >= listings + 2, TimeSpan.FromSeconds(5), message: "a lists twice after b is back");
        var members = await a.Actor.Ask<CurrentMembers>(GetMembers.Instance, Dilated(TimeSpan.FromSeconds(3)));
        var events = probe.ReceiveWhile<object>(_ => true, max: TimeSpan.FromMilliseconds(200));
        if (events.OfType<MemberDown>().FirstOrDefault(e => e.Member.Id == b.Self.Id) is { } down)
            problems.Add($"a published MemberDown({down.Reason}) for b, which never left and was written again within a heartbeat");
        if (members.Members.All(m => m.Id != b.Self.Id))
            problems.Add("a's members lack b although a has listed b's entry since b wrote it again");

        var c = StartNode();
        try
        {
            await feed.ExpectAsync<MemberRegistered>(e => e.NodeId == c.Self.Id, TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            problems.Add("a's change feed never announced c, which joined after the directory was recreated");
        }

        Assert.True(problems.Count == 0, string.Join("; ", problems));
    }

    [Fact]
    public async Task Deregistration_must_not_touch_files_outside_the_directory_whatever_the_id()
    {
        // RegisterAsync refuses an id that is not a UUID; DeregisterAsync builds paths from it unchecked.
        var registry = NewRegistry();
        var victim = Path.Combine(_root, "victim.json");
        await File.WriteAllTextAsync(victim, "precious");

        try
        {
            await registry.DeregisterAsync(NewMember() with { Id = "../victim" });
        }
        catch (ArgumentException)
        {
            // refusing the id, as RegisterAsync does, is fine
        }

        Assert.True(File.Exists(victim), $"DeregisterAsync deleted {victim}, outside the registry directory {RegistryDirectory}");
    }
}
