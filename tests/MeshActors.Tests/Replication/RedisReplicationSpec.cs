using MeshActors.Testing;
using Xunit.Abstractions;
using MeshActors.Tests.Mesh;

namespace MeshActors.Tests.Replication;

using MeshActors.TestKit;

/// <summary>A replicated dictionary between nodes that find each other through a real redis-server.</summary>
public sealed class RedisReplicationSpec(RedisServer redis, ITestOutputHelper output) : LoopbackMesh(output), IClassFixture<RedisServer>
{
    protected override string RegistrySetting => redis.ConnectionString;

    [Fact]
    public async Task A_set_and_a_remove_must_replicate_between_nodes_found_through_Redis()
    {
        var (a, b) = await StartConnected("a", "b");
        var atA = await Open<string>(a, "d");
        var atB = await Open<string>(b, "d");
        await WaitForReplicas(a, "d", 1);

        await atA.SetAsync("x", "one");
        await atA.SetAsync("y", "two");
        await atA.RemoveAsync("y");

        await WaitFor(atB, "x", "one");
        await WaitForAbsent(atB, "y");
        Assert.Single(atB);
    }
}
