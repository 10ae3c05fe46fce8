using System.Diagnostics;
using System.Text;
using MeshActors.Discovery;
using MeshActors.Testing;
using MeshActors.Tests.Transport;

namespace MeshActors.Tests.Discovery;

/// <summary>The registry contract against a real redis-server, plus what only Redis has: TTLs, key types, the events channel, outages.</summary>
public sealed class RedisRegistrySpec(RedisServer redis) : RegistryContract, IClassFixture<RedisServer>
{
    protected override string RegistrySetting => redis.ConnectionString;

    protected override async Task<byte[]?> ReadRawAsync(string prefix, MeshMember member) =>
        (byte[]?)await redis.CommandAsync("GET", EntryName(prefix, member.Name, member.Id));

    protected override Task WriteRawAsync(string prefix, string entry, byte[] value) =>
        redis.CommandAsync("SET", entry, value, "EX", "60");

    protected override string EntryName(string prefix, string name, string id) => $"{prefix}:service:{name}:{id}";

    protected override string ForeignEntryName(string prefix) => $"{prefix}:service:orders:not-a-node-id";

    protected override void AssertStoredValue(string expectedRegistration, byte[] stored, TimeSpan ttl, DateTimeOffset writtenAfter, DateTimeOffset writtenBefore) =>
        Assert.Equal(expectedRegistration, Encoding.UTF8.GetString(stored));

    [Fact]
    public async Task Registration_must_be_a_string_key_with_the_ttl_in_seconds()
    {
        var registry = NewRegistry();
        var member = NewMember();

        await registry.RegisterAsync(member);

        var key = EntryName(Prefix, member.Name, member.Id);
        Assert.Equal("string", await redis.CommandAsync("TYPE", key));
        Assert.InRange((long)(await redis.CommandAsync("PTTL", key))!, (long)(LongTtl - TimeSpan.FromSeconds(10)).TotalMilliseconds, (long)LongTtl.TotalMilliseconds);
    }

    [Fact]
    public async Task Listing_must_skip_a_value_over_the_cap_without_downloading_it()
    {
        var registry = NewRegistry();
        var valid = NewMember();
        await registry.RegisterAsync(valid);
        var huge = EntryName(Prefix, "orders", Guid.NewGuid().ToString());
        await redis.CommandAsync("SETRANGE", huge, 8 * 1024 * 1024 - 1, "x"); // 8 MB, far over the 64 KB cap
        var sentBefore = await BytesSentByRedisAsync();

        var listing = await registry.ListAsync();

        Assert.Equal([valid.Id], listing.Members.Select(member => member.Id));
        Assert.StartsWith("value is 8388608 bytes, over the", Assert.Single(listing.Skipped).Reason);
        Assert.InRange(await BytesSentByRedisAsync() - sentBefore, 0, 1024 * 1024); // the listing, not the 8 MB
    }

    [Fact]
    public async Task A_mesh_kept_apart_by_database_number_must_not_hear_the_joins_of_another()
    {
        // Pub/sub ignores the database: the two meshes share the events channel of their prefix.
        var observer = RegistryFactory.Create(Options() with { Registry = $"redis://{redis.ConnectionString}/1" }, Logs);
        await using var _ = observer;
        var neighbour = RegistryFactory.Create(Options() with { Registry = $"redis://{redis.ConnectionString}/1" }, Logs);
        await using var __ = neighbour;
        var stranger = RegistryFactory.Create(Options() with { Registry = $"redis://{redis.ConnectionString}/2" }, Logs);
        await using var ___ = stranger;
        var feed = new EventRecorder<RegistryChange>();
        observer.Changed += feed.Add;
        await observer.ListAsync(); // subscribed from here on
        var (inOtherDatabase, inThisDatabase) = (NewMember(), NewMember());

        // Published in this order, heard in this order: the stranger's join would come first.
        await stranger.RegisterAsync(inOtherDatabase);
        await neighbour.RegisterAsync(inThisDatabase);
        await feed.ExpectAsync<MemberRegistered>(joined => joined.NodeId == inThisDatabase.Id, TimeSpan.FromSeconds(10));

        Assert.DoesNotContain(feed.Seen, change => change.NodeId == inOtherDatabase.Id);
    }

    [Fact]
    public async Task Listing_must_skip_a_key_that_holds_a_hash()
    {
        var registry = NewRegistry();
        var key = EntryName(Prefix, "orders", Guid.NewGuid().ToString());
        await redis.CommandAsync("HSET", key, "host", "127.0.0.1");

        var listing = await registry.ListAsync();

        Assert.Empty(listing.Members);
        Assert.Equal(key, Assert.Single(listing.Skipped).Key);
        Assert.Contains("WRONGTYPE", listing.Skipped[0].Reason);
    }

    [Fact]
    public async Task Listing_must_skip_a_key_that_is_not_UTF8_and_say_so_once()
    {
        var registry = NewRegistry();
        var id = Guid.NewGuid().ToString();
        var key = Encoding.UTF8.GetBytes(EntryName(Prefix, "ordersX", id));
        key[Array.IndexOf(key, (byte)'X')] = 0xFF;
        await redis.CommandAsync("SET", key, $$"""{"id":"{{id}}","service_name":"orders","host":"127.0.0.1","port":7001}""", "EX", "60");

        var first = await registry.ListAsync();
        var second = await registry.ListAsync();

        foreach (var listing in new[] { first, second })
        {
            Assert.Empty(listing.Members);
            Assert.Equal("key is not valid UTF-8", Assert.Single(listing.Skipped).Reason);
        }

        Assert.Equal(1, Logs.Count(7001, id));
    }

    [Fact]
    public async Task Listing_must_skip_a_value_whose_service_name_is_not_the_keys()
    {
        var registry = NewRegistry();
        var id = Guid.NewGuid().ToString();
        await WriteRawAsync(Prefix, EntryName(Prefix, "orders", id), Encoding.UTF8.GetBytes(
            $$"""{"id":"{{id}}","service_name":"billing","host":"127.0.0.1","port":7001}"""));

        var listing = await registry.ListAsync();

        Assert.Empty(listing.Members);
        Assert.Contains("does not match the key", Assert.Single(listing.Skipped).Reason);
    }

    [Fact]
    public async Task Listing_must_parse_a_third_party_key_from_the_right_when_the_name_holds_a_colon()
    {
        var registry = NewRegistry();
        var id = Guid.NewGuid().ToString();
        await WriteRawAsync(Prefix, EntryName(Prefix, "billing:eu", id), Encoding.UTF8.GetBytes(
            $$"""{"id":"{{id}}","service_name":"billing:eu","host":"127.0.0.1","port":7001}"""));

        var listing = await registry.ListAsync();

        Assert.Equal(new MeshMember(id, "billing:eu", "127.0.0.1", 7001), Assert.Single(listing.Members));
    }

    [Fact]
    public async Task Listing_must_find_every_key_of_a_keyspace_larger_than_one_scan_page()
    {
        var registry = NewRegistry();
        var ids = Enumerable.Range(0, 2500).Select(_ => Guid.NewGuid().ToString()).ToArray();
        foreach (var chunk in ids.Chunk(500))
        {
            var mset = new List<object> { "MSET" };
            foreach (var id in chunk)
            {
                mset.Add(EntryName(Prefix, "orders", id));
                mset.Add($$"""{"id":"{{id}}","service_name":"orders","host":"127.0.0.1","port":7001}""");
            }

            await redis.CommandAsync([.. mset]);
        }

        var listing = await registry.ListAsync();

        Assert.Equal(ids.Order(), listing.Members.Select(m => m.Id).Order());
    }

    [Fact]
    public async Task Change_feed_must_ignore_garbage_announcements_with_one_warning_per_problem()
    {
        var observer = NewRegistry();
        var feed = new EventRecorder<RegistryChange>();
        observer.Changed += feed.Add;
        await observer.ListAsync(); // connected and subscribed
        var member = NewMember();
        var channel = $"{Prefix}:events";
        await Eventually.UntilAsync(() => redis.CommandAsync("PUBSUB", "NUMSUB", channel), reply => (long)((object?[])reply!)[1]! > 0, TimeSpan.FromSeconds(5), "the registry subscribes");

        foreach (var garbage in new[] { "not json", """{"event":"join"}""", """{"event":"join","registration":{"id":"x"}}""", """{"event":"leave","id":"node-1"}""", "not json" })
            await redis.CommandAsync("PUBLISH", channel, garbage);
        var notUtf8 = Encoding.UTF8.GetBytes("""{"event":"leave","id":"X","service_name":"o"}""");
        notUtf8[Array.IndexOf(notUtf8, (byte)'X')] = 0xFF; // valid JSON, invalid UTF-8
        await redis.CommandAsync("PUBLISH", channel, notUtf8);
        await NewRegistry().RegisterAsync(member);

        await feed.ExpectAsync<MemberRegistered>(c => c.NodeId == member.Id, TimeSpan.FromSeconds(5));
        Assert.Single(feed.Seen);
        Assert.Equal(4, Logs.Count(7002)); // once per distinct problem: a repeat is not logged again
    }

    [Fact]
    public async Task Registry_must_fail_fast_while_redis_is_down_and_recover_when_it_returns()
    {
        await using var outage = new RedisServer();
        await outage.StartAsync();
        var registry = RegistryFactory.Create(Options() with { Registry = outage.ConnectionString }, Logs);
        await using var _ = registry;
        var states = new EventRecorder<RegistryConnectionState>();
        registry.ConnectionStateChanged += states.Add;
        var member = NewMember();
        await registry.RegisterAsync(member);
        Assert.Equal(RegistryConnectionState.Connected, registry.ConnectionState);

        await outage.StopAsync();
        await states.ExpectAsync(RegistryConnectionState.Disconnected, TimeSpan.FromSeconds(5));
        var failing = Stopwatch.StartNew();
        await Assert.ThrowsAsync<RegistryUnavailableException>(() => registry.RefreshAsync(member));
        await Assert.ThrowsAsync<RegistryUnavailableException>(() => registry.ListAsync());
        Assert.True(failing.Elapsed < Eventually.Scaled(TimeSpan.FromSeconds(2.5)), $"two calls took {failing.Elapsed} while Redis was down");

        await outage.StartAsync(); // empty: the registration is gone, as if it had expired
        await states.ExpectAsync(RegistryConnectionState.Connected, TimeSpan.FromSeconds(10));
        await Eventually.UntilAsync(() => Succeeds(() => registry.RegisterAsync(member)), ok => ok, TimeSpan.FromSeconds(10), "registration works again");
        Assert.Equal([member.Id], (await registry.ListAsync()).Members.Select(m => m.Id));

        var feed = new EventRecorder<RegistryChange>();
        registry.Changed += feed.Add;
        var other = RegistryFactory.Create(Options() with { Registry = outage.ConnectionString }, Logs);
        await using var __ = other;
        var newcomer = NewMember("billing");
        await other.RegisterAsync(newcomer);
        await feed.ExpectAsync<MemberRegistered>(c => c.NodeId == newcomer.Id, TimeSpan.FromSeconds(5));
        Assert.Equal(1, Logs.Count(7004));
    }

    [Fact]
    public async Task Registry_must_start_while_redis_is_down_and_register_once_it_is_up()
    {
        var later = new RedisServer();
        await using var _ = later;
        var started = Stopwatch.StartNew();
        var registry = RegistryFactory.Create(Options() with { Registry = later.ConnectionString, CommandTimeout = TimeSpan.FromSeconds(1) }, Logs);
        await using var __ = registry;
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(1), $"creating the registry took {started.Elapsed}");
        var member = NewMember();

        var failing = Stopwatch.StartNew();
        await Assert.ThrowsAsync<RegistryUnavailableException>(() => registry.RegisterAsync(member));
        Assert.True(failing.Elapsed < Eventually.Scaled(TimeSpan.FromSeconds(2)), $"a call took {failing.Elapsed} while Redis was down");
        Assert.Equal(RegistryConnectionState.Disconnected, registry.ConnectionState);

        await later.StartAsync();
        await Eventually.UntilAsync(() => Succeeds(() => registry.RegisterAsync(member)), ok => ok, TimeSpan.FromSeconds(15), "registration works");
        Assert.Equal(RegistryConnectionState.Connected, registry.ConnectionState);

        var feed = new EventRecorder<RegistryChange>();
        registry.Changed += feed.Add;
        var newcomer = NewMember("billing");
        var second = RegistryFactory.Create(Options() with { Registry = later.ConnectionString }, Logs);
        await using var ___ = second;
        await second.RegisterAsync(newcomer);
        await feed.ExpectAsync<MemberRegistered>(c => c.NodeId == newcomer.Id, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_change_feed_that_cannot_subscribe_during_an_outage_must_be_warned_about_once_not_at_every_call()
    {
        const int FeedUnavailable = 7005, FeedStillUnavailable = 7008, FeedListening = 7009;
        var later = new RedisServer();
        await using var _ = later;
        var registry = RegistryFactory.Create(Options() with { Registry = later.ConnectionString, CommandTimeout = TimeSpan.FromSeconds(0.5) }, Logs);
        await using var __ = registry;
        var member = NewMember();

        // Each call while Redis is down tries the subscription again; three failed tries are enough to tell.
        await Eventually.UntilAsync(
            async () =>
            {
                await Succeeds(() => registry.RegisterAsync(member));
                return Logs.Count(FeedUnavailable) + Logs.Count(FeedStillUnavailable);
            },
            tries => tries >= 3,
            TimeSpan.FromSeconds(20),
            "three failed subscriptions");
        Assert.Equal(1, Logs.Count(FeedUnavailable));

        await later.StartAsync();
        // Calls go on as heartbeats would: the subscription is tried again at each until it holds (its connection may
        // come back after the command connection does).
        await Eventually.UntilAsync(
            async () =>
            {
                await Succeeds(() => registry.RegisterAsync(member));
                return Logs.Count(FeedListening);
            },
            count => count == 1,
            TimeSpan.FromSeconds(15),
            "the feed listening again");
        Assert.Equal(1, Logs.Count(FeedUnavailable));
    }

    private async Task<long> BytesSentByRedisAsync()
    {
        var stats = Encoding.UTF8.GetString((byte[])(await redis.CommandAsync("INFO", "stats"))!);
        var line = stats.Split("\r\n").Single(line => line.StartsWith("total_net_output_bytes:", StringComparison.Ordinal));
        return long.Parse(line["total_net_output_bytes:".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<bool> Succeeds(Func<Task> call)
    {
        try
        {
            await call();
            return true;
        }
        catch (RegistryUnavailableException)
        {
            return false;
        }
    }
}
