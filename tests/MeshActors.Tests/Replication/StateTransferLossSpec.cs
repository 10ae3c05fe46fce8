using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Replication;
using Xunit.Abstractions;
using MeshActors.Tests.Mesh;

namespace MeshActors.Tests.Replication;

using MeshActors.TestKit;

/// <summary>
/// A whole state is the only repair replication has (docs/replication.md, "Deltas, at most once; repaired by re-sync"):
/// what happens to it when its messages cannot all be queued. Real nodes on loopback HTTP/2.
/// </summary>
public sealed class StateTransferLossSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    private const int OpenedIncomplete = 8002;
    private const long Cap = 256 * 1024;

    /// <summary>
    /// Under <see cref="PeerOverflowPolicy.Fail"/>, a state's first messages are refused by a queue near its cap and its
    /// small final message fits: the opening replica takes the final message as a whole state, opens without the
    /// warning (8002) and without the entries of the refused messages, and nothing ever re-syncs it while the channel
    /// stays up. SendState's XML comment says the state is sent "waiting for room in the peer's queue"; the interest
    /// announcement, which must not be lost either, waits whatever the policy.
    /// </summary>
    [Fact]
    public async Task A_state_whose_first_messages_a_full_queue_refused_must_not_complete_an_open_with_the_rest_missing()
    {
        var a = await Start("a", peers: new PeerOptions { OverflowPolicy = PeerOverflowPolicy.Fail, OutboundQueueCapBytes = Cap });
        var b = await Start("b", messaging: new MessagingOptions { SubscriberBacklogLimit = 2 });
        await WaitConnected(a, b);
        var atA = await Open(a, "d", new ReplicatedDictionaryOptions<string> { StateChunkBytes = 1024 });
        for (var i = 0; i < 4; i++)
            await atA.SetAsync("big" + i, new string((char)('a' + i), 3000)); // a state message of its own each
        await atA.SetAsync("z", "small"); // the final message

        await b.Subscribe<string>("fill", (_, _) => ValueTask.CompletedTask).Ready;
        await a.WaitForSubscriberAsync("fill", TestTimeouts.Default);
        var gate = await HoldChannel(a, b);

        // Fill a's queue to b until it holds 128 KiB and stalls, then pad it to leave 2,500 bytes of room: a final state
        // message (a few hundred bytes) fits, a message with a 3,000-character value does not.
        // Under Fail a publish never waits, so a's queue is topped up at each look until the channel stops taking from it.
        var filler = new string('f', 32 * 1024);
        var sent = -1L;
        await AwaitConditionAsync(() =>
        {
            for (var i = 0; i < 64 && Queued(a, b) < 160 * 1024; i++)
                _ = a.PublishAsync("fill", filler).AsTask().ContinueWith(publish => publish.Exception, TaskScheduler.Default);
            var peer = a.DescribePeers().Single(peer => peer.NodeId == b.Id);
            var stalled = peer.Stats.BytesSent == sent;
            sent = peer.Stats.BytesSent;
            return stalled && peer.QueuedBytes >= 160 * 1024;
        }, TestTimeouts.Default, interval: TimeSpan.FromMilliseconds(100), message: "a's queue to b filled and stalled");
        const long room = 2500;
        await a.PublishAsync("fill", new string('p', (int)(Cap - Queued(a, b) - room - 66)));
        Output!.WriteLine($"room left in a's queue to b: {Cap - Queued(a, b)} bytes");
        Assert.InRange(Cap - Queued(a, b), 1000, 3000);

        // b opens d: its pull reaches a on the other direction, which is not held; a answers it at once.
        var opening = b.OpenDictionaryAsync<string>("d");
        await AwaitConditionAsync(() => Log.Count(8008, containing: b.Id) == 1, TestTimeouts.Default, message: "a answering b's pull");
        gate.SetResult();
        await using var atB = await opening.WithTimeout();

        var opened = string.Join(", ", atB.Keys.Order());
        await AwaitConditionAsync(
            () => atB.Count == 5,
            TestTimeouts.Default,
            message: $"b to hold a's 5 keys; it opened with [{opened}] (8002 logged {Log.Count(OpenedIncomplete)} time(s)), a counted {atA.Stats.SendFailures} send failure(s) and StatesSent {atA.Stats.StatesSent}, b StatesReceived {atB.Stats.StatesReceived}, and b and a stay connected replicas that nothing re-syncs");
    }

    private static long Queued(MeshNode from, MeshNode to) => from.DescribePeers().Single(peer => peer.NodeId == to.Id).QueuedBytes;
}
