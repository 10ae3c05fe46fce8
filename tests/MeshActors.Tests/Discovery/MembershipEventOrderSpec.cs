using System.Net.Sockets;
using System.Text;
using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Discovery.Redis;
using MeshActors.Testing;
using MeshActors.TestKit;
using MeshActors.Tests.Transport;

namespace MeshActors.Tests.Discovery;

/// <summary>
/// Membership as subscribers of the registry actor see it over a real redis-server: each join, update and leave once,
/// in the order they happened, whatever the timing of listings and announcements and whatever else sits in the keyspace.
/// </summary>
public sealed class MembershipEventOrderSpec(RedisServer redis) : MeshActors.TestKit.TestKit, IAsyncLifetime, IClassFixture<RedisServer>
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Heartbeat = TimeSpan.FromMilliseconds(250);

    private readonly List<ActorSystem> _systems = [];
    private readonly List<IRegistry> _registries = [];
    private readonly List<IActorRef> _actors = [];

    private TestLog Logs { get; } = new();

    private string Prefix { get; } = "order-" + Guid.NewGuid().ToString("N")[..8];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var registry in _registries.OfType<LateListingRegistry>())
            registry.Release();
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
    /// A key that repeats a live node's id under another name (left by a node restarted with the same id under a new
    /// name, or written by a third party) must not make that member flip between the two registrations at every
    /// heartbeat: subscribers get a MemberUpdated (and the peer manager a new dial address) twice per listing, forever.
    /// </summary>
    [Fact]
    public async Task A_live_member_must_not_flap_at_every_heartbeat_when_a_second_key_repeats_its_id_under_another_name()
    {
        var a = StartNode();
        var probe = Subscribe(a.Actor);
        var b = StartNode();
        ExpectUp(probe, b.Self);

        var stray = b.Self with { Name = "orders-old", Port = 7999 };
        await redis.CommandAsync("SET", $"{Prefix}:service:{stray.Name}:{stray.Id}", RegistrationCodec.EncodeRegistration(stray, 64 * 1024), "EX", "60");

        // Eight heartbeats: one change of mind would be one MemberUpdated at most.
        var events = probe.ReceiveWhile<MemberEvent>(max: Heartbeat * 8);
        var updates = events.OfType<MemberUpdated>().Where(e => e.Member.Id == b.Self.Id).ToArray();
        Assert.True(
            updates.Length <= 1,
            $"{updates.Length} MemberUpdated for one live node in eight heartbeats: {string.Join(", ", updates.Select(u => $"{u.Member.Name}@{u.Member.Port}"))}");
    }

    /// <summary>
    /// A listing whose values were read before a node announced an update, and that lands after the announcement, must
    /// not publish the older registration again: a member that lacks from such a listing is kept (it was announced
    /// since the listing began), but one it shows in an older state is taken back to that state for a heartbeat.
    /// </summary>
    [Fact]
    public async Task A_listing_read_before_an_announced_update_must_not_take_the_member_back_to_its_older_registration()
    {
        LateListingRegistry? late = null;
        var a = StartNode(wrap: inner => late = new LateListingRegistry(inner));
        var probe = Subscribe(a.Actor);
        var b = StartNode();
        ExpectUp(probe, b.Self);

        late!.Hold();
        await AwaitConditionAsync(() => late.HeldListings > 0, TimeSpan.FromSeconds(5), message: "a's next listing has read the keyspace, and waits");

        var updated = b.Self with { Topics = ["prices", "news"] };
        b.Actor.Tell(new UpdateSelf(updated));
        var announced = probe.FishForMessage<MemberUpdated>(e => e.Member.Id == b.Self.Id, TimeSpan.FromSeconds(5));
        Assert.Equal(["prices", "news"], announced.Member.Topics);

        late.Release(); // the listing lands, holding b as it was before the update

        var events = probe.ReceiveWhile<MemberEvent>(max: Heartbeat * 6);
        var regressed = events.OfType<MemberUpdated>().Where(e => e.Member.Id == b.Self.Id && !e.Member.Topics.SequenceEqual(updated.Topics)).ToArray();
        Assert.True(
            regressed.Length == 0,
            $"after MemberUpdated with topics [prices, news], subscribers were told of b again as: {string.Join(", ", regressed.Select(r => $"[{string.Join(", ", r.Member.Topics)}]"))}; all events: {string.Join(", ", events)}");
    }

    /// <summary>
    /// On a database other than 0 a join is confirmed with an EXISTS before it is announced, but a leave is announced
    /// at once: a node that updates its registration and then leaves is reported down (Left), then up again, then
    /// down a second time (Expired) once its key is gone.
    /// </summary>
    [Fact]
    public async Task A_join_followed_by_a_leave_must_not_be_reported_after_the_leave_on_a_database_other_than_0()
    {
        var a = StartNode(configure: o => o with { Registry = $"redis://127.0.0.1:{redis.Port}/1" });
        var probe = Subscribe(a.Actor);

        // b is a node the spec plays itself, in database 1, so that its join and leave follow each other closely.
        var b = new MeshMember(Guid.NewGuid().ToString(), "billing", "127.0.0.1", 7002) { ProtocolVersion = 1, Topics = ["prices"] };
        var key = $"{Prefix}:service:{b.Name}:{b.Id}";
        await PipelineAsync(["SELECT", "1"], ["SET", key, RegistrationCodec.EncodeRegistration(b, 64 * 1024), "EX", "60"]);
        ExpectUp(probe, b);

        // b changes its topics, then stops: "join" (after its SET), then "leave" (before its DEL).
        var updated = b with { Topics = ["prices", "news"] };
        var channel = $"{Prefix}:events";
        await PipelineAsync(
            ["SELECT", "1"],
            ["SET", key, RegistrationCodec.EncodeRegistration(updated, 64 * 1024), "EX", "60"],
            ["PUBLISH", channel, RedisAnnouncement.Join(RegistrationCodec.EncodeRegistration(updated, 64 * 1024))],
            ["PUBLISH", channel, RedisAnnouncement.Leave(updated)]);
        var down = probe.FishForMessage<MemberDown>(e => e.Member.Id == b.Id, TimeSpan.FromSeconds(5));
        Assert.Equal(MemberDownReason.Left, down.Reason);

        try
        {
            // Within two TTLs listings ignore a node that announced its leave: nothing more may be said of b.
            var after = probe.ReceiveWhile<MemberEvent>(max: Ttl);
            Assert.True(
                !after.Any(e => e.Member.Id == b.Id),
                $"after MemberDown(Left) for b, subscribers were told: {string.Join(", ", after.Where(e => e.Member.Id == b.Id))}");
        }
        finally
        {
            await PipelineAsync(["SELECT", "1"], ["DEL", key]);
        }
    }

    private DiscoveryOptions Options() => new()
    {
        Registry = redis.ConnectionString,
        KeyPrefix = Prefix,
        Ttl = Ttl,
        HeartbeatInterval = Heartbeat,
        CommandTimeout = Dilated(TimeSpan.FromSeconds(5)),
        RetryBackoffMin = TimeSpan.FromMilliseconds(50),
    };

    private Node StartNode(string name = "orders", Func<DiscoveryOptions, DiscoveryOptions>? configure = null, Func<IRegistry, IRegistry>? wrap = null)
    {
        var system = ActorSystem.Create("order-node-" + _systems.Count, new ActorSystemOptions { LoggerFactory = Logs });
        _systems.Add(system);
        var options = configure?.Invoke(Options()) ?? Options();
        var registry = RegistryFactory.Create(options, Logs);
        if (wrap is not null)
            registry = wrap(registry);
        _registries.Add(registry);
        var self = new MeshMember(Guid.NewGuid().ToString(), name, "127.0.0.1", 7001) { ProtocolVersion = 1, Topics = ["prices"] };
        var actor = system.ActorOf(RegistryActor.Props(registry, self, options), "registry");
        _actors.Add(actor);
        return new Node(actor, self);
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

    /// <summary>Sends the commands in one write on one connection (so SELECT holds for those after it) and reads one reply each.</summary>
    private async Task PipelineAsync(params object[][] commands)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", redis.Port);
        var stream = client.GetStream();
        var request = new MemoryStream();
        foreach (var command in commands)
        {
            request.Write(Encoding.ASCII.GetBytes($"*{command.Length}\r\n"));
            foreach (var argument in command)
            {
                var bytes = argument as byte[] ?? Encoding.UTF8.GetBytes((string)argument);
                request.Write(Encoding.ASCII.GetBytes($"${bytes.Length}\r\n"));
                request.Write(bytes);
                request.Write("\r\n"u8);
            }
        }

        await stream.WriteAsync(request.ToArray());
        // Every reply here is one line (+OK, :n, -ERR).
        var replies = new List<string>();
        var line = new StringBuilder();
        var one = new byte[1];
        while (replies.Count < commands.Length)
        {
            if (await stream.ReadAsync(one) == 0)
                throw new IOException("redis closed the connection");
            if (one[0] == '\n' && line.Length > 0 && line[^1] == '\r')
            {
                replies.Add(line.ToString(0, line.Length - 1));
                line.Clear();
            }
            else
            {
                line.Append((char)one[0]);
            }
        }

        Assert.DoesNotContain(replies, r => r.StartsWith('-'));
    }

    private sealed record Node(IActorRef Actor, MeshMember Self);

    /// <summary>
    /// A real registry whose listings, once held, read the keyspace at once but answer only when released: a listing
    /// slow to come back after its GETs (thousands of entries to fetch and decode, a busy machine).
    /// </summary>
    private sealed class LateListingRegistry(IRegistry inner) : IRegistry
    {
        private volatile TaskCompletionSource? _held;
        private int _heldListings;

        public int HeldListings => Volatile.Read(ref _heldListings);

        public string Description => inner.Description;

        public RegistryConnectionState ConnectionState => inner.ConnectionState;

        public event Action<RegistryConnectionState>? ConnectionStateChanged
        {
            add => inner.ConnectionStateChanged += value;
            remove => inner.ConnectionStateChanged -= value;
        }

        public event Action<RegistryChange>? Changed
        {
            add => inner.Changed += value;
            remove => inner.Changed -= value;
        }

        public void Hold() => _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release()
        {
            var held = _held;
            _held = null;
            held?.TrySetResult();
        }

        public Task RegisterAsync(MeshMember self, CancellationToken cancellationToken = default) => inner.RegisterAsync(self, cancellationToken);

        public Task<bool> RefreshAsync(MeshMember self, CancellationToken cancellationToken = default) => inner.RefreshAsync(self, cancellationToken);

        public Task DeregisterAsync(MeshMember self, CancellationToken cancellationToken = default) => inner.DeregisterAsync(self, cancellationToken);

        public async Task<RegistryListing> ListAsync(CancellationToken cancellationToken = default)
        {
            var listing = await inner.ListAsync(cancellationToken);
            if (_held is { } held)
            {
                Interlocked.Increment(ref _heldListings);
                await held.Task.WaitAsync(cancellationToken);
            }

            return listing;
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
