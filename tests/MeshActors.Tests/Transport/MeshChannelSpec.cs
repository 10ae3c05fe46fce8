using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using MeshActors.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Transport;

using MeshActors.TestKit;

public sealed class MeshChannelSpec(ITestOutputHelper output)
{
    private const long FiftyMegabytes = 50L * 1024 * 1024;

    [Fact]
    public async Task Channel_must_carry_50MB_each_way_at_the_same_time_byte_exact()
    {
        await using var loopback = await Loopback.StartAsync(output);
        await using var channel = await loopback.OpenAsync();
        var inbound = await loopback.AcceptAsync();

        await TransferBothWaysAsync(channel, inbound, FiftyMegabytes);

        Assert.False(channel.Aborted.IsCancellationRequested);
        Assert.False(inbound.Aborted.IsCancellationRequested);
        Assert.Equal(FiftyMegabytes, loopback.Dialer.Stats.BytesSent);
        Assert.Equal(FiftyMegabytes, loopback.Dialer.Stats.BytesReceived);
        Assert.Equal(FiftyMegabytes, loopback.Listener.Stats.BytesSent);
        Assert.Equal(FiftyMegabytes, loopback.Listener.Stats.BytesReceived);
        Assert.Equal(0, loopback.Listener.Stats.OpenChannels + loopback.Dialer.Stats.OpenChannels);
        Assert.Equal(0, loopback.Listener.Stats.ChannelsAborted + loopback.Dialer.Stats.ChannelsAborted);
    }

    [Fact]
    public async Task Several_channels_must_stream_at_once_each_on_a_connection_of_its_own()
    {
        await using var loopback = await Loopback.StartAsync(output);
        await using var proxy = new TcpProxy(loopback.Listener.LocalEndPoint);
        var pairs = new List<(MeshChannel Dialer, MeshChannel Listener)>();
        for (var i = 0; i < 3; i++)
        {
            pairs.Add((await loopback.Dialer.OpenChannelAsync(proxy.Address).WithTimeout(), await loopback.AcceptAsync()));
        }

        await Task.WhenAll(pairs.Select(pair => TransferBothWaysAsync(pair.Dialer, pair.Listener, 5L * 1024 * 1024)));

        Assert.Equal(3, proxy.Connections);
        Assert.Equal(3, pairs.Select(pair => pair.Listener.RemoteEndPoint).Distinct().Count());
        Assert.Equal(3, loopback.Listener.Stats.ChannelsAccepted);
    }

    [Theory]
    [InlineData("listener")]
    [InlineData("dialer")]
    public async Task A_reader_that_stalls_on_one_channel_must_not_stall_the_other_channels(string stalledSide)
    {
        const long stuck = 32L * 1024 * 1024;
        await using var loopback = await Loopback.StartAsync(output);
        var stalledDialer = await loopback.OpenAsync();
        var stalledListener = await loopback.AcceptAsync();
        var (writer, reader) = stalledSide == "listener" ? (stalledDialer, stalledListener) : (stalledListener, stalledDialer);
        var pattern = new BytePattern(seed: 3);
        var blockedWriter = Task.Run(async () =>
        {
            await pattern.WriteAsync(writer.Output, stuck, writeSeed: 30);
            await writer.Output.CompleteAsync();
        });

        await using var channel = await loopback.OpenAsync();
        var inbound = await loopback.AcceptAsync();
        await TransferBothWaysAsync(channel, inbound, 20L * 1024 * 1024);

        Assert.False(blockedWriter.IsCompleted, "the stalled channel's writer should be held back by its own flow-control window");
        Assert.Equal(stuck, await pattern.ReadToEndAsync(reader.Input).WithTimeout());
        await blockedWriter.WithTimeout();
    }

    [Fact]
    public async Task A_burst_from_the_dialer_must_reach_the_listener_in_blocks_larger_than_Kestrels_4_KB()
    {
        // Kestrel's own pool would hand the listener 4 KB blocks: one receive system call per 4 KB (ListenerMemoryPool).
        const int burst = 1024 * 1024;
        await using var loopback = await Loopback.StartAsync(output);
        await using var channel = await loopback.OpenAsync();
        var inbound = await loopback.AcceptAsync();

        await channel.Output.WriteAsync(new byte[burst]);
        var largest = 0L;
        var received = 0L;
        while (received < burst)
        {
            var result = await inbound.Input.ReadAsync().AsTask().WithTimeout();
            foreach (var segment in result.Buffer)
            {
                largest = Math.Max(largest, segment.Length);
            }

            received = result.Buffer.Length;
            inbound.Input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }

        Assert.Equal(ListenerMemoryPool.BlockSize, largest);
    }

    [Fact]
    public async Task Completing_the_dialer_output_must_end_the_listener_input_in_order()
    {
        await using var loopback = await Loopback.StartAsync(output);
        await using var channel = await loopback.OpenAsync();
        var inbound = await loopback.AcceptAsync();

        await channel.Output.WriteAsync("last words"u8.ToArray());
        await channel.Output.CompleteAsync();

        Assert.Equal("last words", await ReadAllTextAsync(inbound.Input));
        // The other direction is still open: the listener can answer after the dialer has finished.
        await inbound.Output.WriteAsync("reply"u8.ToArray());
        await inbound.Output.CompleteAsync();
        Assert.Equal("reply", await ReadAllTextAsync(channel.Input));
        Assert.False(channel.Aborted.IsCancellationRequested);
        Assert.False(inbound.Aborted.IsCancellationRequested);
        loopback.Finish(inbound);
        await Conditions.AwaitConditionAsync(() => loopback.Listener.Stats.OpenChannels == 0 && loopback.Dialer.Stats.OpenChannels == 0);
        Assert.Equal(0, loopback.Listener.Stats.ChannelsAborted + loopback.Dialer.Stats.ChannelsAborted);
    }

    [Fact]
    public async Task Completing_the_listener_output_must_end_the_dialer_input_in_order()
    {
        await using var loopback = await Loopback.StartAsync(output);
        await using var channel = await loopback.OpenAsync();
        var inbound = await loopback.AcceptAsync();

        await inbound.Output.WriteAsync("last words"u8.ToArray());
        await inbound.Output.CompleteAsync();

        Assert.Equal("last words", await ReadAllTextAsync(channel.Input));
        await channel.Output.WriteAsync("reply"u8.ToArray());
        await channel.Output.CompleteAsync();
        Assert.Equal("reply", await ReadAllTextAsync(inbound.Input));
        Assert.False(channel.Aborted.IsCancellationRequested);
        Assert.False(inbound.Aborted.IsCancellationRequested);
        loopback.Finish(inbound);
        await Conditions.AwaitConditionAsync(() => loopback.Listener.Stats.OpenChannels == 0 && loopback.Dialer.Stats.OpenChannels == 0);
        Assert.Equal(0, loopback.Listener.Stats.ChannelsAborted + loopback.Dialer.Stats.ChannelsAborted);
    }

    /// <summary>Streams <paramref name="length"/> bytes each way at once, checks every byte, and ends both directions in order.</summary>
    internal static async Task TransferBothWaysAsync(MeshChannel dialer, MeshChannel listener, long length)
    {
        var toListener = new BytePattern(seed: 1);
        var toDialer = new BytePattern(seed: 2);
        var transfers = new[]
        {
            Task.Run(async () =>
            {
                await toListener.WriteAsync(dialer.Output, length, writeSeed: 10);
                await dialer.Output.CompleteAsync();
                return length;
            }),
            Task.Run(async () =>
            {
                await toDialer.WriteAsync(listener.Output, length, writeSeed: 20);
                await listener.Output.CompleteAsync();
                return length;
            }),
            Task.Run(() => toListener.ReadToEndAsync(listener.Input)),
            Task.Run(() => toDialer.ReadToEndAsync(dialer.Input)),
        };

        Assert.All(await Task.WhenAll(transfers).WithTimeout(), received => Assert.Equal(length, received));
    }

    internal static async Task<string> ReadAllTextAsync(PipeReader input)
    {
        while (true)
        {
            var result = await input.ReadAsync().WithTimeout();
            if (result.IsCompleted)
            {
                var text = System.Text.Encoding.UTF8.GetString(result.Buffer.ToArray());
                input.AdvanceTo(result.Buffer.End);
                return text;
            }

            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }
}
