using MeshActors.Discovery;
using MeshActors.Testing;
using Xunit.Abstractions;

namespace MeshActors.Tests.Mesh;

using MeshActors.TestKit;

/// <summary>The mesh over a real redis-server started for this class.</summary>
public sealed class RedisMeshSpec(RedisServer redis, ITestOutputHelper output) : MeshContract(output), IClassFixture<RedisServer>
{
    protected override string RegistrySetting => redis.ConnectionString;

    // Only Redis shows from outside whether the node closed its registry: its connections go away.
    [Fact]
    public async Task A_cancelled_stop_must_still_terminate_the_actor_system_and_close_the_registry()
    {
        await using var own = new RedisServer();
        await own.StartAsync();
        var node = await MeshNode.StartAsync(new MeshOptions
        {
            NodeName = "stopper",
            Discovery = new DiscoveryOptions { Registry = own.ConnectionString, KeyPrefix = Prefix },
            LoggerFactory = Log,
        });
        await AwaitConditionAsync(async () => await ClientsAsync(own) > 0, TestTimeouts.Default, message: "the registry connects");
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel(); // as the host's shutdown timeout does

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => node.StopAsync(cancelled.Token));

        Assert.True(node.System.WhenTerminated.IsCompleted, "the node's actor system is terminated");
        await AwaitConditionAsync(async () => await ClientsAsync(own) == 0, TestTimeouts.Default, message: "the registry closes its connections");
        await node.DisposeAsync().AsTask().WithTimeout(); // the container's dispose afterwards has nothing left to do
    }

    /// <summary>Clients connected to <paramref name="server"/>, not counting the one that asks.</summary>
    private static async Task<int> ClientsAsync(RedisServer server) =>
        System.Text.Encoding.UTF8.GetString((byte[])(await server.CommandAsync("CLIENT", "LIST"))!).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length - 1;
}
