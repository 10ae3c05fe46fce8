namespace MeshActors.Cli.Tests;

/// <summary>A plain Marketrix peer (samples/MarketrixNodePeer, Node.js, no mesh protocol) streaming raw messages with a <c>mesh node</c>.</summary>
public sealed class MarketrixPeerSpec : LocalMeshSpec
{
    [Fact]
    public async Task A_plain_Node_peer_must_exchange_raw_messages_with_a_mesh_node()
    {
        var node = await Cli.StartNodeAsync("marketrix-host");
        await using var peer = ChildProcess.Start("node", [RepositoryPaths.File("samples", "MarketrixNodePeer", "mesh_peer.mjs"), "--dial", node.Address, "--count", "10"]);

        await peer.WaitForLineAsync("done received=10 sent=10");
        Assert.Equal(0, await peer.WaitForExitAsync());
        Assert.Contains(peer.Stdout, line => line.Contains("Message from marketrix-host #9", StringComparison.Ordinal));
        await node.Process.WaitForLineAsync(line => line.StartsWith("raw from=", StringComparison.Ordinal) && line.Contains("Message from Node #9", StringComparison.Ordinal));
    }
}

/// <summary>A plain Marketrix peer that listens and registers in Redis: the mesh node dials it, with its own HTTP/2 client, against Node.js's nghttp2.</summary>
public sealed class ListeningMarketrixPeerSpec : IAsyncLifetime
{
    private readonly MeshActors.Testing.RedisServer _redis = new();
    private MeshCli _cli = null!;

    public async Task InitializeAsync()
    {
        await _redis.StartAsync();
        _cli = new MeshCli($"redis://{_redis.ConnectionString}");
    }

    public async Task DisposeAsync()
    {
        await _cli.DisposeAsync();
        await _redis.StopAsync();
    }

    [Fact]
    public async Task A_mesh_node_must_dial_a_listening_Node_peer_it_finds_in_Redis_and_exchange_raw_messages()
    {
        await using var peer = ChildProcess.Start("node", [
            RepositoryPaths.File("samples", "MarketrixNodePeer", "mesh_peer.mjs"), "--name", "node-listener", "--listen", "0", "--redis", _redis.ConnectionString, "--count", "10"]);
        await peer.WaitForLineAsync(line => line.StartsWith("registered ", StringComparison.Ordinal));

        var node = await _cli.StartNodeAsync("marketrix-dialer");

        await peer.WaitForLineAsync("done received=10 sent=10");
        Assert.Contains(peer.Stdout, line => line.Contains("Message from marketrix-dialer #9", StringComparison.Ordinal));
        await node.Process.WaitForLineAsync(line => line.StartsWith("raw from=", StringComparison.Ordinal) && line.Contains("Message from Node #9", StringComparison.Ordinal));
    }
}
