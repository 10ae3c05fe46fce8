using System.Diagnostics;
using System.Text;
using MeshActors.Discovery;
using MeshActors.Tests.Transport;

namespace MeshActors.Tests.Discovery;

/// <summary>What every registry backend must do; each backend's spec derives from this and says how to reach raw entries.</summary>
public abstract class RegistryContract : IAsyncLifetime
{
    /// <summary>Short, so the expiry specs run in about a second.</summary>
    protected static readonly TimeSpan Ttl = TimeSpan.FromSeconds(1);

    /// <summary>For every other spec: nothing expires while a slow machine runs it.</summary>
    protected static readonly TimeSpan LongTtl = TimeSpan.FromSeconds(60);

    private const int SkippedEntryEvent = 7001;
    private readonly List<IRegistry> _registries = [];

    protected TestLog Logs { get; } = new();

    /// <summary>A prefix of this test's own, so specs never see each other's entries.</summary>
    protected string Prefix { get; } = "spec-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>The <see cref="DiscoveryOptions.Registry"/> setting that selects the backend under test.</summary>
    protected abstract string RegistrySetting { get; }

    /// <summary>The bytes stored for <paramref name="member"/>, read without the code under test; null when absent.</summary>
    protected abstract Task<byte[]?> ReadRawAsync(string prefix, MeshMember member);

    /// <summary>Stores <paramref name="value"/> under an entry name, without the code under test, alive for a minute.</summary>
    protected abstract Task WriteRawAsync(string prefix, string entry, byte[] value);

    /// <summary>The entry name (key or file name) of a node.</summary>
    protected abstract string EntryName(string prefix, string name, string id);

    /// <summary>An entry name that the backend's listing looks at but that cannot be a node's.</summary>
    protected abstract string ForeignEntryName(string prefix);

    /// <summary>What the stored value looks like around the registration JSON (the local backend adds a lease); asserts the rest.</summary>
    protected abstract void AssertStoredValue(string expectedRegistration, byte[] stored, TimeSpan ttl, DateTimeOffset writtenAfter, DateTimeOffset writtenBefore);

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var registry in _registries)
            await registry.DisposeAsync();
    }

    protected DiscoveryOptions Options(string? prefix = null, TimeSpan? ttl = null) => new()
    {
        Registry = RegistrySetting,
        KeyPrefix = prefix ?? Prefix,
        Ttl = ttl ?? LongTtl,
        HeartbeatInterval = TimeSpan.FromMilliseconds(250),
        CommandTimeout = Eventually.Scaled(TimeSpan.FromSeconds(5)),
    };

    protected IRegistry NewRegistry(string? prefix = null, TimeSpan? ttl = null)
    {
        var registry = RegistryFactory.Create(Options(prefix, ttl), Logs);
        _registries.Add(registry);
        return registry;
    }

    protected static MeshMember NewMember(string name = "orders", int port = 7001) =>
        new(Guid.NewGuid().ToString(), name, "127.0.0.1", port)
        {
            ProtocolVersion = 1,
            Topics = ["prices", "trades"],
            Services = ["quote"],
            Tags = new Dictionary<string, string> { ["zone"] = "eu-1" },
            StartedAt = new DateTimeOffset(2026, 1, 2, 3, 4, 5, 678, TimeSpan.Zero),
        };

    /// <summary>A decoded member carries the stored metadata object too; compare the modeled fields.</summary>
    protected static MeshMember Modeled(MeshMember member) => member with { Metadata = null };

    protected static async Task<RegistryListing> ListUntilAsync(IRegistry registry, Func<RegistryListing, bool> condition, string what, TimeSpan? timeout = null) =>
        await Eventually.UntilAsync(() => registry.ListAsync(), condition, timeout ?? TimeSpan.FromSeconds(5), what);

    [Fact]
    public async Task Registration_must_be_stored_byte_for_byte_in_the_Marketrix_format()
    {
        var registry = NewRegistry();
        var member = NewMember();

        var before = DateTimeOffset.UtcNow;
        await registry.RegisterAsync(member);
        var after = DateTimeOffset.UtcNow;

        var expected = $$$"""
            {"id":"{{{member.Id}}}","service_name":"orders","host":"127.0.0.1","port":7001,"metadata":{"protocol_version":1,"topics":["prices","trades"],"services":["quote"],"tags":{"zone":"eu-1"},"started_at":"2026-01-02T03:04:05.678Z"}}
            """;
        var stored = await ReadRawAsync(Prefix, member);
        Assert.NotNull(stored);
        AssertStoredValue(expected, stored, LongTtl, before, after);
    }

    [Fact]
    public async Task Listing_must_return_a_registered_member_with_every_field()
    {
        var registry = NewRegistry();
        var member = NewMember() with { Host = "node-7.example", Port = 65535 };

        await registry.RegisterAsync(member);
        var listing = await registry.ListAsync();

        var listed = Assert.Single(listing.Members);
        Assert.Equal(Modeled(member), Modeled(listed));
        Assert.Equal(1, listed.Metadata!.Value.GetProperty("protocol_version").GetInt32());
        Assert.Empty(listing.Skipped);
    }

    [Fact]
    public async Task Refreshing_must_keep_a_registration_alive_past_its_first_ttl()
    {
        var registry = NewRegistry(ttl: Ttl);
        var member = NewMember();
        await registry.RegisterAsync(member);
        using var stop = new CancellationTokenSource();
        var heartbeats = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
            while (await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false))
                await registry.RefreshAsync(member, stop.Token);
        });

        var alive = Stopwatch.StartNew();
        await Eventually.UntilAsync(
            async () => (Listed: (await registry.ListAsync()).Members.Any(m => m.Id == member.Id), Elapsed: alive.Elapsed),
            probe => !probe.Listed || probe.Elapsed >= Ttl * 3,
            Ttl * 10,
            "three TTLs pass or the member disappears");
        var listedAtTheEnd = (await registry.ListAsync()).Members.Any(m => m.Id == member.Id);

        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => heartbeats);
        Assert.True(listedAtTheEnd && alive.Elapsed >= Ttl * 3, $"the refreshed member vanished after {alive.Elapsed}");
    }

    [Fact]
    public async Task Deregistration_must_remove_the_member_at_once()
    {
        var registry = NewRegistry();
        var leaving = NewMember();
        var staying = NewMember("billing");
        await registry.RegisterAsync(leaving);
        await registry.RegisterAsync(staying);

        await registry.DeregisterAsync(leaving);

        var listing = await registry.ListAsync();
        Assert.Equal([staying.Id], listing.Members.Select(m => m.Id));
        Assert.Null(await ReadRawAsync(Prefix, leaving));
    }

    [Fact]
    public async Task A_registration_must_expire_within_its_ttl_when_refreshes_stop()
    {
        var registry = NewRegistry(ttl: Ttl);
        var crashed = NewMember();
        var clock = Stopwatch.StartNew();
        await registry.RegisterAsync(crashed);
        var registeredBy = clock.Elapsed;
        var lastSeenAliveAt = TimeSpan.Zero;

        // Judged by when each listing started, so a slow test machine cannot make a late expiry look punctual.
        var goneAt = await Eventually.UntilAsync(
            async () =>
            {
                var startedAt = clock.Elapsed;
                var alive = (await registry.ListAsync()).Members.Any(m => m.Id == crashed.Id);
                if (alive)
                    lastSeenAliveAt = startedAt;
                return alive ? (TimeSpan?)null : startedAt;
            },
            gone => gone is not null,
            Ttl * 5,
            "the crashed member expires");

        var tolerance = TimeSpan.FromMilliseconds(200);
        Assert.True(lastSeenAliveAt <= registeredBy + Ttl + tolerance, $"still listed {lastSeenAliveAt} after registering, more than the TTL {Ttl}");
        Assert.True(goneAt >= Ttl - tolerance, $"gone {goneAt} after registering, before its TTL {Ttl}");
    }

    [Fact]
    public async Task Change_feed_must_announce_a_join_an_update_and_a_graceful_leave()
    {
        var observer = NewRegistry();
        var feed = new EventRecorder<RegistryChange>();
        observer.Changed += feed.Add;
        await observer.ListAsync(); // connected and listening: what changes from now on is heard
        var node = NewRegistry();
        var member = NewMember();

        await node.RegisterAsync(member);
        var joined = await feed.ExpectAsync<MemberRegistered>(c => c.NodeId == member.Id, TimeSpan.FromSeconds(5));
        Assert.Equal(Modeled(member), Modeled(joined.Member));

        var updated = member with { Topics = ["prices", "trades", "news"] };
        await node.RegisterAsync(updated);
        await feed.ExpectAsync<MemberRegistered>(c => c.Member.Topics.Contains("news"), TimeSpan.FromSeconds(5));

        await node.DeregisterAsync(updated);
        await feed.ExpectAsync<MemberDeregistered>(c => c.NodeId == member.Id, TimeSpan.FromSeconds(5));
    }

    public static TheoryData<string> GarbageCases =>
    [
        "not JSON", "half-written JSON", "empty value", "JSON array", "missing id", "missing service_name", "missing host",
        "missing port", "id of the wrong type", "port as a string", "fractional port", "port 0", "port 70000", "empty host",
        "host that is not a host name", "id not matching the key", "metadata not an object", "topics not strings",
        "value over the size cap", "entry name without a node id", "name that is not UTF-8", "tag that is not UTF-8",
        "topic escaping half a surrogate pair",
    ];

    [Theory]
    [MemberData(nameof(GarbageCases))]
    public async Task Listing_must_skip_garbage_and_say_why(string garbage)
    {
        var registry = NewRegistry();
        var valid = NewMember();
        await registry.RegisterAsync(valid);
        var id = Guid.NewGuid().ToString();
        var (entry, value, reason) = Garbage(garbage, id);
        await WriteRawAsync(Prefix, entry, value);

        var first = await registry.ListAsync();
        var second = await registry.ListAsync();

        foreach (var listing in new[] { first, second })
        {
            Assert.Equal([valid.Id], listing.Members.Select(m => m.Id));
            var skipped = Assert.Single(listing.Skipped);
            Assert.EndsWith(entry, skipped.Key);
            Assert.Contains(reason, skipped.Reason);
        }

        Assert.Equal(1, Logs.Count(SkippedEntryEvent, entry));
    }

    private (string Entry, byte[] Value, string Reason) Garbage(string garbage, string id)
    {
        var (entry, value, reason) = GarbageText(garbage, id);
        var bytes = Encoding.UTF8.GetBytes(value);
        if (garbage.EndsWith("not UTF-8", StringComparison.Ordinal))
        {
            // "XX" becomes a lead byte followed by a byte that cannot continue it: JSON's structure stays valid.
            var at = Array.IndexOf(bytes, (byte)'X');
            bytes[at] = 0xC3;
            bytes[at + 1] = 0x28;
        }

        return (entry, bytes, reason);
    }

    private (string Entry, string Value, string Reason) GarbageText(string garbage, string id)
    {
        var entry = EntryName(Prefix, "orders", id);
        string Json(string fields) => "{" + fields + "}";
        var idField = $"\"id\":\"{id}\"";
        const string name = "\"service_name\":\"orders\"";
        const string host = "\"host\":\"127.0.0.1\"";
        const string port = "\"port\":7001";
        return garbage switch
        {
            "not JSON" => (entry, "hello, registry", "not JSON"),
            "half-written JSON" => (entry, $"{{{idField},{name},{host},\"po", "not JSON"),
            "empty value" => (entry, "", "not JSON"),
            "JSON array" => (entry, "[1,2,3]", "not an object"),
            "missing id" => (entry, Json($"{name},{host},{port}"), "'id' is missing"),
            "missing service_name" => (entry, Json($"{idField},{host},{port}"), "'service_name' is missing"),
            "missing host" => (entry, Json($"{idField},{name},{port}"), "'host' is missing"),
            "missing port" => (entry, Json($"{idField},{name},{host}"), "'port' is missing"),
            "id of the wrong type" => (entry, Json($"\"id\":42,{name},{host},{port}"), "'id' must be a string"),
            "port as a string" => (entry, Json($"{idField},{name},{host},\"port\":\"7001\""), "'port' must be an integer"),
            "fractional port" => (entry, Json($"{idField},{name},{host},\"port\":7001.5"), "'port' must be an integer"),
            "port 0" => (entry, Json($"{idField},{name},{host},\"port\":0"), "outside 1-65535"),
            "port 70000" => (entry, Json($"{idField},{name},{host},\"port\":70000"), "outside 1-65535"),
            "empty host" => (entry, Json($"{idField},{name},\"host\":\"\",{port}"), "'host' is empty"),
            "host that is not a host name" => (entry, Json($"{idField},{name},\"host\":\"rm -rf /\",{port}"), "not a host name"),
            "id not matching the key" => (entry, Json($"\"id\":\"{Guid.NewGuid()}\",{name},{host},{port}"), "does not match"),
            "metadata not an object" => (entry, Json($"{idField},{name},{host},{port},\"metadata\":\"x\""), "'metadata' must be an object"),
            "topics not strings" => (entry, Json($"{idField},{name},{host},{port},\"metadata\":{{\"protocol_version\":1,\"topics\":[1]}}"), "metadata.topics"),
            "value over the size cap" => (entry, Json($"{idField},{name},{host},{port},\"metadata\":{{\"pad\":\"{new string('x', 70_000)}\"}}"), "byte cap"),
            "entry name without a node id" => (ForeignEntryName(Prefix), Json($"{idField},{name},{host},{port}"), "(a UUID)"),
            "name that is not UTF-8" => (entry, Json($"{idField},\"service_name\":\"ordersXX\",{host},{port}"), "not valid text"),
            "tag that is not UTF-8" => (entry, Json($"{idField},{name},{host},{port},\"metadata\":{{\"tags\":{{\"zone\":\"euXX\"}}}}"), "not valid text"),
            "topic escaping half a surrogate pair" => (entry, Json($"{idField},{name},{host},{port},\"metadata\":{{\"topics\":[\"\\ud800\"]}}"), "not valid text"),
            _ => throw new ArgumentOutOfRangeException(nameof(garbage), garbage, null),
        };
    }

    [Fact]
    public async Task Listing_must_warn_once_per_bad_entry_not_at_every_heartbeat()
    {
        var registry = NewRegistry();
        var member = NewMember();
        var entry = EntryName(Prefix, member.Name, member.Id);
        await WriteRawAsync(Prefix, entry, "garbage"u8.ToArray());

        for (var heartbeat = 0; heartbeat < 3; heartbeat++)
            Assert.Single((await registry.ListAsync()).Skipped);
        Assert.Equal(1, Logs.Count(SkippedEntryEvent, entry));

        await registry.RegisterAsync(member);
        Assert.Empty((await registry.ListAsync()).Skipped);

        await WriteRawAsync(Prefix, entry, "garbage again"u8.ToArray());
        Assert.Single((await registry.ListAsync()).Skipped);
        Assert.Equal(2, Logs.Count(SkippedEntryEvent, entry));
    }

    [Fact]
    public async Task Prefix_must_isolate_two_meshes()
    {
        var blue = NewRegistry(Prefix + "-blue");
        var green = NewRegistry(Prefix + "-green");
        var greenFeed = new EventRecorder<RegistryChange>();
        green.Changed += greenFeed.Add;
        var blueMember = NewMember();
        var greenMember = NewMember();

        await blue.RegisterAsync(blueMember);
        await green.RegisterAsync(greenMember);
        await greenFeed.ExpectAsync<MemberRegistered>(c => c.NodeId == greenMember.Id, TimeSpan.FromSeconds(5));

        Assert.Equal([blueMember.Id], (await blue.ListAsync()).Members.Select(m => m.Id));
        Assert.Equal([greenMember.Id], (await green.ListAsync()).Members.Select(m => m.Id));
        Assert.DoesNotContain(greenFeed.Seen, c => c.NodeId == blueMember.Id);
    }

    [Fact]
    public async Task A_third_party_registration_with_only_the_Marketrix_fields_must_be_discovered()
    {
        var registry = NewRegistry();
        var id = Guid.NewGuid().ToString();
        await WriteRawAsync(Prefix, EntryName(Prefix, "python-worker", id), Encoding.UTF8.GetBytes(
            $$"""{"id": "{{id}}", "service_name": "python-worker", "host": "10.0.0.7", "port": 50051}"""));

        var listing = await registry.ListAsync();

        var member = Assert.Single(listing.Members);
        Assert.Equal(new MeshMember(id, "python-worker", "10.0.0.7", 50051), member);
        Assert.Equal(0, member.ProtocolVersion);
        Assert.Null(member.Metadata);
        Assert.Empty(listing.Skipped);
    }

    public static TheoryData<string, string> UnregistrableMembers => new()
    {
        { "name with a colon", "must not contain ':'" },
        { "empty name", "1-200 characters" },
        { "id that is not a UUID", "is not a UUID" },
        { "port 0", "outside 1-65535" },
        { "empty host", "'host' is empty" },
    };

    [Theory]
    [MemberData(nameof(UnregistrableMembers))]
    public async Task Registration_must_refuse_a_member_that_would_corrupt_the_keyspace(string problem, string message)
    {
        var registry = NewRegistry();
        var member = NewMember();
        member = problem switch
        {
            "name with a colon" => member with { Name = "billing:eu" },
            "empty name" => member with { Name = "" },
            "id that is not a UUID" => member with { Id = "node-1" },
            "port 0" => member with { Port = 0 },
            "empty host" => member with { Host = "" },
            _ => throw new ArgumentOutOfRangeException(nameof(problem)),
        };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => registry.RegisterAsync(member));

        Assert.Contains(message, error.Message);
        Assert.Empty((await registry.ListAsync()).Members);
    }
}
