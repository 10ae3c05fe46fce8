using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using MeshActors.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Transport;

public sealed class MeshChannelSpec(ITestOutputHelper output)
{
    private const long FiftyMegabytes = 50L * 1024 * 1024;

    [Fact]
    public async Task Channel_must_carry_50MB_each_way_at_the_same_time_byte_exact()
    {
        var toListener = new BytePattern(seed: 1);
        var toDialer = new BytePattern(seed: 2);
        var listenerReceived = new TaskCompletionSource<long>();
        await using var loopback = await Loopback.StartAsync(output, onChannel: async channel =>
        {
            var sending = Task.Run(async () =>
            {
                await toDialer.WriteAsync(channel.Output, FiftyMegabytes, writeSeed: 20);
                await channel.Output.CompleteAsync();
            });
            listenerReceived.SetResult(await toListener.ReadToEndAsync(channel.Input));
            await sending;
        });

        await using var channel = await loopback.OpenAsync();
        var sending = Task.Run(async () =>
        {
            await toListener.WriteAsync(channel.Output, FiftyMegabytes, writeSeed: 10);
            await channel.Output.CompleteAsync();
        });
        var dialerReceived = await toDialer.ReadToEndAsync(channel.Input).WithTimeout();
        await sending.WithTimeout();

        Assert.Equal(FiftyMegabytes, dialerReceived);
        Assert.Equal(FiftyMegabytes, await listenerReceived.Task.WithTimeout());
        Assert.False(channel.Aborted.IsCancellationRequested);
        Assert.Equal(FiftyMegabytes, loopback.Dialer.Stats.BytesSent);
        Assert.Equal(FiftyMegabytes, loopback.Dialer.Stats.BytesReceived);
        await AwaitConditionAsync(() => loopback.Listener.Stats.OpenChannels == 0 && loopback.Dialer.Stats.OpenChannels == 0);
        Assert.Equal(FiftyMegabytes, loopback.Listener.Stats.BytesSent);
        Assert.Equal(FiftyMegabytes, loopback.Listener.Stats.BytesReceived);
        Assert.Equal(0, loopback.Listener.Stats.ChannelsAborted + loopback.Dialer.Stats.ChannelsAborted);
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
        await AwaitConditionAsync(() => loopback.Listener.Stats.OpenChannels == 0 && loopback.Dialer.Stats.OpenChannels == 0);
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
        await AwaitConditionAsync(() => loopback.Listener.Stats.OpenChannels == 0 && loopback.Dialer.Stats.OpenChannels == 0);
        Assert.Equal(0, loopback.Listener.Stats.ChannelsAborted + loopback.Dialer.Stats.ChannelsAborted);
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

    internal static async Task AwaitConditionAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not become true in time");
            await Task.Yield();
            await Task.Delay(10);
        }
    }
}
