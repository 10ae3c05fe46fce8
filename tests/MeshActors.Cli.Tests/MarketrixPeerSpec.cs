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
