using MeshActors.Peers;

namespace MeshActors.Tests.Mesh;

using MeshActors.TestKit;

/// <summary>Backs up a node's queue to a peer that stopped reading: the specs of what waits for room in it.</summary>
internal static class QueueBackup
{
    /// <summary>
    /// Publishes 64 KB messages on <paramref name="topic"/> (which only the stuck peer <paramref name="peerId"/> takes)
    /// until <paramref name="node"/>'s queue to it holds the backpressure threshold and stalls, so that senders wait for room.
    /// </summary>
    public static async Task PublishUntilStalledAsync(MeshNode node, string peerId, string topic)
    {
        using var stopPublishing = new CancellationTokenSource();
        var payload = new byte[64 * 1024];
        var publishing = Task.Run(async () =>
        {
            while (true)
                await node.PublishAsync(topic, payload, stopPublishing.Token);
        });
        long queued = -1;
        await Conditions.AwaitConditionAsync(
            () =>
            {
                var now = node.DescribePeers().Single(peer => peer.NodeId == peerId).QueuedBytes;
                var stalled = now == queued && now >= new PeerOptions().BackpressureBytes;
                queued = now;
                return stalled;
            },
            TestTimeouts.Long,
            interval: TimeSpan.FromMilliseconds(250),
            message: $"{node.Self.Name}'s queue to {peerId} to back up and stall");
        await stopPublishing.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => publishing.WithTimeout());
    }
}
