using MeshActors.Peers;
using Xunit.Abstractions;

namespace MeshActors.Tests.Peers;

using MeshActors.TestKit;

public sealed class DataPlaneSpec(ITestOutputHelper output) : TestKit(output)
{
    private ITestOutputHelper Log => Output!;

    [Fact]
    public async Task Two_nodes_must_exchange_a_million_messages_each_way_at_once_in_order_without_loss_or_duplicates()
    {
        const int count = 1_000_000;
        await using var a = await TestNode.StartAsync(Log, "a");
        await using var b = await TestNode.StartAsync(Log, "b");
        a.See(b);
        b.See(a);
        var toB = await a.ConnectedPeerAsync(b);
        var toA = await b.ConnectedPeerAsync(a);

        await Task.WhenAll(Task.Run(() => SendAsync(toB, count)), Task.Run(() => SendAsync(toA, count))).WaitAsync(TestTimeouts.Long);

        var fromA = b.Handler.From(a.Id);
        var fromB = a.Handler.From(b.Id);
        await AwaitConditionAsync(() => fromA.Count >= count && fromB.Count >= count, TestTimeouts.Long);
        Assert.True(fromA.IsExactly(count), $"a -> b: {fromA}");
        Assert.True(fromB.IsExactly(count), $"b -> a: {fromB}");
        Assert.Equal(1, a.Directory.ChannelCount);
        Assert.Equal(0, a.Directory.Totals.Dropped + b.Directory.Totals.Dropped);
        Assert.InRange(a.Directory.Totals.FramesSent, count, count + 100);
        Log.WriteLine($"a: {a.Directory.Totals}");
        Log.WriteLine($"b: {b.Directory.Totals}");
    }

    internal static async Task SendAsync(IPeer peer, int count, int first = 0)
    {
        for (var n = first; n < first + count; n++)
        {
            await peer.SendAsync(RecordingHandler.Pub(n));
        }
    }
}
