using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Testing;

namespace MeshActors.Tests.Discovery;

/// <summary>The registry actor over Redis, including Redis going away and coming back in the middle of a test.</summary>
public sealed class RedisRegistryActorSpec(RedisServer redis) : RegistryActorContract, IClassFixture<RedisServer>
{
    protected override string RegistrySetting => redis.ConnectionString;

    [Fact]
    public async Task Membership_must_survive_a_redis_restart_and_heal_afterwards()
    {
        await using var outage = new RedisServer();
        await outage.StartAsync();
        // A TTL longer than the client's reconnect (about 1 s): nodes re-register one after the other.
        var ttl = TimeSpan.FromSeconds(3);
        DiscoveryOptions OnOutage(DiscoveryOptions options) => options with { Registry = outage.ConnectionString, Ttl = ttl };
        var a = StartNode(configure: OnOutage);
        var probe = Subscribe(a);
        var b = StartNode(configure: OnOutage);
        ExpectUp(probe, b.Self);

        await outage.StopAsync();

        // Longer than a TTL: a node keeps the members it knows while the registry is away.
        probe.ExpectNoMsg(ttl + TimeSpan.FromSeconds(1));
        Assert.Contains((await a.Actor.Ask<CurrentMembers>(GetMembers.Instance)).Members, m => m.Id == b.Self.Id);

        await outage.StartAsync(); // empty: every registration is gone
        var keys = new object[] { "EXISTS", Key(a), Key(b) };
        await AwaitConditionAsync(async () => await outage.CommandAsync(keys) is 2L, TimeSpan.FromSeconds(15), message: "both nodes register again");

        var c = StartNode(configure: OnOutage);
        var up = probe.ExpectMsg<MemberUp>(timeout: TimeSpan.FromSeconds(5)); // and no MemberDown for b before it
        Assert.Equal(c.Self.Id, up.Member.Id);
        Assert.Equal(2, Logs.Count(7011)); // "unavailable": once per node, not once per retry
        Assert.Equal(2, Logs.Count(7013)); // "available again": once per node
    }

    [Fact]
    public async Task A_redis_restart_between_two_calls_must_not_take_live_members_for_expired()
    {
        var a = StartNode();
        var probe = Subscribe(a);
        // b is a live node the spec plays itself, so that it re-registers exactly when the spec says.
        var b = NewMember("billing");
        var key = $"{Prefix}:service:{b.Name}:{b.Id}";
        var value = $$"""{"id":"{{b.Id}}","service_name":"{{b.Name}}","host":"127.0.0.1","port":7001}""";
        await redis.CommandAsync("SET", key, value, "EX", "60");
        ExpectUp(probe, b);

        // A restart without persistence as a's client sees it: the connection drops, Redis comes back empty, the
        // connection returns; none of a's calls needs to fail.
        a.Registry.PlayConnectionState(RegistryConnectionState.Disconnected);
        await redis.CommandAsync("DEL", key);
        a.Registry.PlayConnectionState(RegistryConnectionState.Connected);

        // The first of two more rounds listed a keyspace without b; a round is reconciled before the next begins.
        var listed = a.Registry.ListingsStarted;
        await AwaitConditionAsync(() => a.Registry.ListingsStarted >= listed + 2, TimeSpan.FromSeconds(10), message: "two more rounds");
        Assert.Contains((await a.Actor.Ask<CurrentMembers>(GetMembers.Instance)).Members, m => m.Id == b.Id);

        await redis.CommandAsync("SET", key, value, "EX", "60"); // b's client reconnects and b registers again
        probe.ExpectNoMsg(Ttl + Heartbeat); // past the hold-off: b was never down
    }

    [Fact]
    public async Task A_flushed_keyspace_must_not_make_live_members_look_expired()
    {
        var a = StartNode();
        var probe = Subscribe(a);
        var b = StartNode();
        ExpectUp(probe, b.Self);
        b.Registry.Block(); // b's client is slow to come back to it: its next heartbeat waits
        await AwaitConditionAsync(() => b.Registry.BlockedCalls > 0, TimeSpan.FromSeconds(5), message: "b's next round waits");

        await redis.CommandAsync("DEL", Key(a), Key(b)); // FLUSHALL, as far as this mesh is concerned

        // a finds its own key gone, writes it again and lists twice; b's key is still missing all along.
        await AwaitConditionAsync(async () => await redis.CommandAsync("EXISTS", Key(a)) is 1L, TimeSpan.FromSeconds(5), message: "a registers again");
        var listed = a.Registry.ListingsStarted;
        await AwaitConditionAsync(() => a.Registry.ListingsStarted >= listed + 2, TimeSpan.FromSeconds(5), message: "two more rounds");
        Assert.Contains((await a.Actor.Ask<CurrentMembers>(GetMembers.Instance)).Members, m => m.Id == b.Self.Id);

        b.Registry.Unblock();
        probe.ExpectNoMsg(Ttl + Heartbeat); // past the hold-off: b was never down
        Assert.Equal(1L, await redis.CommandAsync("EXISTS", Key(b)));
    }

    [Fact]
    public async Task A_node_must_start_while_redis_is_down_and_join_when_it_comes_up()
    {
        await using var later = new RedisServer();
        DiscoveryOptions OnLater(DiscoveryOptions options) => options with { Registry = later.ConnectionString };
        var a = StartNode(configure: OnLater);

        var current = await a.Actor.Ask<CurrentMembers>(GetMembers.Instance, TimeSpan.FromSeconds(1));
        Assert.Empty(current.Members);

        await later.StartAsync();
        var probe = Subscribe(a);
        var b = StartNode(configure: OnLater);
        ExpectUp(probe, b.Self, TimeSpan.FromSeconds(20));
        await AwaitConditionAsync(async () => await later.CommandAsync("EXISTS", Key(a)) is 1L, TimeSpan.FromSeconds(10), message: "a registers");
    }

    private string Key(Node node) => $"{Prefix}:service:{node.Self.Name}:{node.Self.Id}";
}
