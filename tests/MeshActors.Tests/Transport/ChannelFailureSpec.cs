using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MeshActors.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Transport;

using MeshActors.TestKit;

public sealed class ChannelFailureSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task Aborting_on_the_dialer_must_surface_on_the_listener()
    {
        await using var loopback = await Loopback.StartAsync(output);
        var channel = await loopback.OpenAsync();
        var inbound = await loopback.AcceptAsync();
        var pendingRead = inbound.Input.ReadAsync().AsTask();

        channel.Abort("the test is done with it");

        await Assert.ThrowsAsync<ChannelClosedException>(() => pendingRead.WithTimeout());
        await Aborted(inbound).WithTimeout();
        var local = await Assert.ThrowsAsync<ChannelClosedException>(() => channel.Input.ReadAsync().AsTask().WithTimeout());
        Assert.Contains("the test is done with it", local.Message);
        Assert.True(channel.Aborted.IsCancellationRequested);
        // Counters are updated by whichever thread notices first; wait for them rather than race it.
        await Conditions.AwaitConditionAsync(() => loopback.Listener.Stats is { OpenChannels: 0, ChannelsAborted: 1 });
        Assert.Equal(1, loopback.Dialer.Stats.ChannelsAborted);
        Assert.Equal(0, loopback.Dialer.Stats.OpenChannels);
    }

    [Fact]
    public async Task Aborting_on_the_listener_must_surface_on_the_dialer()
    {
        await using var loopback = await Loopback.StartAsync(output);
        await using var channel = await loopback.OpenAsync();
        var inbound = await loopback.AcceptAsync();
        var pendingRead = channel.Input.ReadAsync().AsTask();

        inbound.Abort("the test is done with it");

        await Assert.ThrowsAsync<ChannelClosedException>(() => pendingRead.WithTimeout());
        await Aborted(channel).WithTimeout();
        await Assert.ThrowsAsync<ChannelClosedException>(async () =>
        {
            await channel.Output.WriteAsync(new byte[100]).AsTask().WithTimeout();
            await channel.Output.FlushAsync().AsTask().WithTimeout();
        });
    }

    [Fact]
    public async Task A_failing_handler_must_reset_its_channel_and_be_logged_once()
    {
        await using var loopback = await Loopback.StartAsync(output, onChannel: async inbound =>
        {
            await inbound.Input.ReadAsync();
            throw new InvalidOperationException("handler bug");
        });
        await using var channel = await loopback.OpenAsync();
        await channel.Output.WriteAsync(new byte[1]);

        await Assert.ThrowsAsync<ChannelClosedException>(() => channel.Input.ReadAsync().AsTask().WithTimeout());
        Assert.Equal(1, loopback.Log.Count(3006));
    }

    [Fact]
    public async Task Stopping_the_listener_must_surface_promptly_on_a_dialer_reading_mid_stream()
    {
        await using var loopback = await Loopback.StartAsync(output, onChannel: async inbound =>
        {
            try
            {
                while (true)
                {
                    inbound.Output.GetSpan(16 * 1024);
                    inbound.Output.Advance(16 * 1024);
                    await inbound.Output.FlushAsync();
                }
            }
            catch (ChannelClosedException)
            {
                // The listener stopped.
            }
        });
        await using var channel = await loopback.OpenAsync();
        var firstBytes = await channel.Input.ReadAsync().AsTask().WithTimeout();
        channel.Input.AdvanceTo(firstBytes.Buffer.End);
        var reading = Task.Run(async () =>
        {
            while (true)
            {
                var result = await channel.Input.ReadAsync();
                channel.Input.AdvanceTo(result.Buffer.End);
            }
        });

        var stopwatch = Stopwatch.StartNew();
        var stopping = loopback.Listener.StopAsync();
        await Assert.ThrowsAsync<ChannelClosedException>(() => reading.WithTimeout());
        var noticed = stopwatch.Elapsed;
        await stopping.WithTimeout();
        output.WriteLine($"dialer noticed the stop after {noticed.TotalMilliseconds:0} ms; the listener stopped after {stopwatch.Elapsed.TotalMilliseconds:0} ms");

        Assert.True(channel.Aborted.IsCancellationRequested);
        // Promptly: a reset travels at once, far sooner than a keep-alive ping could notice anything (slack for a busy CI).
        Assert.True(noticed < TestTimeouts.Scaled(TimeSpan.FromSeconds(3)), $"noticed after {noticed}");
        Assert.True(stopwatch.Elapsed < loopback.Options.ShutdownTimeout, "the handler should have returned as soon as its channel was aborted");
    }

    [Fact]
    public async Task A_crashed_peer_must_be_noticed_at_once_on_both_sides()
    {
        await using var loopback = await Loopback.StartAsync(output);
        await using var proxy = new TcpProxy(loopback.Listener.LocalEndPoint);
        await using var channel = await loopback.Dialer.OpenChannelAsync(proxy.Address).WithTimeout();
        var inbound = await loopback.AcceptAsync();
        await Exchange(channel, inbound);

        var stopwatch = Stopwatch.StartNew();
        proxy.Crash();

        // Nobody reads or writes: the Aborted tokens alone must tell.
        await Aborted(channel).WithTimeout();
        var dialerNoticed = stopwatch.Elapsed;
        await Aborted(inbound).WithTimeout();
        var listenerNoticed = stopwatch.Elapsed;
        await Assert.ThrowsAsync<ChannelClosedException>(() => channel.Input.ReadAsync().AsTask().WithTimeout());
        await Assert.ThrowsAsync<ChannelClosedException>(() => inbound.Input.ReadAsync().AsTask().WithTimeout());
        output.WriteLine($"crash noticed by the dialer after {dialerNoticed.TotalMilliseconds:0} ms, by the listener after {listenerNoticed.TotalMilliseconds:0} ms");
        // The target is ~1 s and it takes milliseconds; the bound leaves room for a loaded CI machine.
        Assert.True(dialerNoticed < TestTimeouts.Scaled(TimeSpan.FromSeconds(2)), $"dialer noticed after {dialerNoticed}");
        Assert.True(listenerNoticed < TestTimeouts.Scaled(TimeSpan.FromSeconds(2)), $"listener noticed after {listenerNoticed}");
    }

    [Fact]
    public async Task A_hung_peer_must_be_noticed_by_the_keep_alive_ping_on_both_sides()
    {
        await using var loopback = await Loopback.StartAsync(output);
        await using var proxy = new TcpProxy(loopback.Listener.LocalEndPoint);
        await using var channel = await loopback.Dialer.OpenChannelAsync(proxy.Address).WithTimeout();
        var inbound = await loopback.AcceptAsync();
        await Exchange(channel, inbound);
        var (dialerAborted, listenerAborted) = (Aborted(channel), Aborted(inbound));

        var stopwatch = Stopwatch.StartNew();
        proxy.Hang();

        // Kestrel and SocketsHttpHandler check their pings once a second, each threshold crossed counts from a tick;
        // one more tick of slack for a machine busy with the rest of the suite.
        var options = loopback.Options;
        var bound = TestTimeouts.Scaled(options.KeepAlivePingDelay + options.KeepAlivePingTimeout + TimeSpan.FromSeconds(5));
        await dialerAborted.WaitAsync(bound + TestTimeouts.Default);
        var dialerNoticed = stopwatch.Elapsed;
        await listenerAborted.WaitAsync(bound + TestTimeouts.Default);
        var listenerNoticed = stopwatch.Elapsed;
        await Assert.ThrowsAsync<ChannelClosedException>(() => channel.Input.ReadAsync().AsTask().WithTimeout());
        output.WriteLine($"hang noticed by the dialer after {dialerNoticed.TotalMilliseconds:0} ms, by the listener after {listenerNoticed.TotalMilliseconds:0} ms (ping delay {options.KeepAlivePingDelay}, timeout {options.KeepAlivePingTimeout})");
        Assert.True(dialerNoticed < bound, $"dialer noticed after {dialerNoticed}");
        Assert.True(listenerNoticed < bound, $"listener noticed after {listenerNoticed}");
    }

    [Fact]
    public async Task Dialing_a_closed_port_must_fail_with_a_connect_exception_naming_the_address()
    {
        using var dialer = new MeshDialer("dialer", Loopback.DefaultOptions, new TestLog(output));
        var closed = new DnsEndPoint("127.0.0.1", FreePort());

        var failure = await Assert.ThrowsAsync<ChannelConnectException>(() => dialer.OpenChannelAsync(closed).WithTimeout());

        Assert.Contains($"127.0.0.1:{closed.Port}", failure.Message);
        Assert.Equal(closed, failure.Remote);
        Assert.Equal(1, dialer.Stats.DialFailures);
    }

    [Fact]
    public async Task Dialing_a_peer_that_never_answers_must_time_out_with_a_connect_exception()
    {
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        silent.Listen();
        var options = Loopback.DefaultOptions with { ConnectTimeout = TimeSpan.FromSeconds(1) };
        using var dialer = new MeshDialer("dialer", options, new TestLog(output));

        var stopwatch = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAsync<ChannelConnectException>(
            () => dialer.OpenChannelAsync(new DnsEndPoint("127.0.0.1", ((IPEndPoint)silent.LocalEndPoint!).Port)).WithTimeout());

        Assert.Contains("no answer within 1 s", failure.Message);
        // Timers may fire a tick early by the stopwatch; the point is that the dialer waited about the timeout, not forever.
        Assert.True(stopwatch.Elapsed >= options.ConnectTimeout - TimeSpan.FromMilliseconds(50), $"gave up after {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task Cancelling_the_open_must_not_cancel_the_open_channel()
    {
        await using var loopback = await Loopback.StartAsync(output);
        using var opening = new CancellationTokenSource();
        await using var channel = await loopback.Dialer.OpenChannelAsync(loopback.Address, cancellationToken: opening.Token).WithTimeout();
        var inbound = await loopback.AcceptAsync();

        await opening.CancelAsync();

        await Exchange(channel, inbound);
        Assert.False(channel.Aborted.IsCancellationRequested);
    }

    /// <summary>Sends a few bytes each way, proving the channel works end to end.</summary>
    internal static async Task Exchange(MeshChannel dialer, MeshChannel listener)
    {
        await dialer.Output.WriteAsync("ping"u8.ToArray()).AsTask().WithTimeout();
        var ping = await listener.Input.ReadAtLeastAsync(4).AsTask().WithTimeout();
        listener.Input.AdvanceTo(ping.Buffer.End);
        await listener.Output.WriteAsync("pong"u8.ToArray()).AsTask().WithTimeout();
        var pong = await dialer.Input.ReadAtLeastAsync(4).AsTask().WithTimeout();
        dialer.Input.AdvanceTo(pong.Buffer.End);
    }

    internal static Task Aborted(MeshChannel channel)
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        channel.Aborted.Register(() => aborted.TrySetResult());
        return aborted.Task;
    }

    internal static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
