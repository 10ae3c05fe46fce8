using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MeshActors.Transport;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace MeshActors.Tests.Transport.Http2;

/// <summary>
/// The dialer's own HTTP/2 client against a real Kestrel listener: how it ends a stream whose output is complete but
/// whose input is not, and how its keep-alive PING judges a listener it is streaming to over a slow link.
/// </summary>
public sealed class DialerStreamEndAndKeepAliveSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task A_dialer_completing_its_output_then_its_input_must_still_deliver_all_its_output_in_order()
    {
        // More than the listener's 4 MB stream window: the last megabyte is still in the dialer's pipe, waiting for
        // the credit the listener returns as it reads, when the dialer completes its input.
        const int Length = 5 * 1024 * 1024, Piece = 64 * 1024;
        var pattern = new BytePattern(seed: 4);
        var opened = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var received = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);

        // The listener's handler reads the whole request body before it returns (Kestrel frees the body when it does);
        // it never ends its own side first.
        await using var loopback = await Loopback.StartAsync(output, onChannel: async inbound =>
        {
            await opened.Task;
            try
            {
                var length = await pattern.ReadToEndAsync(inbound.Input);
                Assert.False(inbound.Aborted.IsCancellationRequested, "the listener's channel was reset");
                received.TrySetResult(length);
            }
            catch (Exception e)
            {
                received.TrySetException(e);
            }
        });
        await using var channel = await loopback.OpenAsync();
        for (var position = 0; position < Length; position += Piece)
        {
            pattern.Fill(channel.Output.GetSpan(Piece)[..Piece], position);
            channel.Output.Advance(Piece);
        }

        // MeshChannel: "complete Output (the remote's Input then completes)"; "completing Input early tells the
        // remote to stop sending". The listener has not ended its side, so the dialer's input is completed early.
        await channel.Output.CompleteAsync();
        await channel.Input.CompleteAsync();
        opened.SetResult();

        // Everything the dialer sent must arrive in order, and the listener's input must then end in order.
        Assert.Equal(Length, await received.Task.WaitAsync(TestTimeouts.Long));
    }

    [Fact]
    public async Task A_dialer_streaming_to_a_listener_over_a_slow_link_must_not_be_cut_by_its_keep_alive_while_the_listener_reads()
    {
        // 2 Mbit/s from dialer to listener, five seconds of data: under the 2 MB Kestrel reads before it returns any
        // stream credit, so the listener has nothing to send back but the answer to a PING, and that answer can only
        // come once the bytes the dialer queued ahead of its PING have crossed the link.
        const int BytesPerSecond = 256 * 1024, Length = 5 * BytesPerSecond;
        await using var loopback = await Loopback.StartAsync(output);
        await using var link = new SlowLink(loopback.Listener.LocalEndPoint, toListener: BytesPerSecond, toDialer: 0);
        await using var channel = await loopback.Dialer.OpenChannelAsync(link.Address).WithTimeout();
        var inbound = await loopback.AcceptAsync();
        var pattern = new BytePattern(seed: 6);
        var receiving = Task.Run(() => pattern.ReadToEndAsync(inbound.Input));
        var stopwatch = Stopwatch.StartNew();

        await pattern.WriteAsync(channel.Output, Length, writeSeed: 60);
        await channel.Output.CompleteAsync();

        // The listener is alive and reading the whole time: it must receive everything, and the dialer must not have
        // declared it hung (TransportOptions.KeepAlivePingTimeout: "a busy connection is never cut by a late PING ACK").
        long received;
        try
        {
            received = await receiving.WaitAsync(TestTimeouts.Long);
        }
        catch (ChannelClosedException e)
        {
            output.WriteLine($"the listener's read failed: {e.Message}");
            received = -1;
        }

        output.WriteLine($"the listener read {received} bytes in {stopwatch.Elapsed.TotalMilliseconds:0} ms");
        Assert.False(
            channel.Aborted.IsCancellationRequested,
            "the dialer cut a connection whose listener was reading all along: "
                + string.Join(" | ", loopback.Log.Lines.Where(line => line.Level >= LogLevel.Information && line.Message.Contains("PING")).Select(line => line.Message)));
        Assert.Equal(Length, received);
    }

    [Fact]
    public async Task A_dialer_reading_from_a_listener_over_a_slow_link_must_not_be_taken_for_hung_by_the_listeners_keep_alive()
    {
        // 2 Mbit/s from listener to dialer, seven seconds of data (1.75 MB): the dialer reads every byte as it
        // arrives, but returns credit only once it has read half its 4 MB window, so the listener hears nothing from it
        // but the answer to a PING queued behind the bytes the listener already sent.
        const int BytesPerSecond = 256 * 1024, Length = 7 * BytesPerSecond;
        var pattern = new BytePattern(seed: 7);
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var loopback = await Loopback.StartAsync(output, onChannel: async inbound =>
        {
            try
            {
                await pattern.WriteAsync(inbound.Output, Length, writeSeed: 70);
                await inbound.Output.CompleteAsync();
                sent.TrySetResult();

                // The dialer ends its side once it has read everything; the handler returns then.
                while (true)
                {
                    var result = await inbound.Input.ReadAsync();
                    inbound.Input.AdvanceTo(result.Buffer.End);
                    if (result.IsCompleted)
                    {
                        break;
                    }
                }
            }
            catch (Exception e)
            {
                sent.TrySetException(e);
            }
        });
        await using var link = new SlowLink(loopback.Listener.LocalEndPoint, toListener: 0, toDialer: BytesPerSecond);
        await using var channel = await loopback.Dialer.OpenChannelAsync(link.Address).WithTimeout();
        var stopwatch = Stopwatch.StartNew();

        var received = await pattern.ReadToEndAsync(channel.Input).WaitAsync(TestTimeouts.Long);
        output.WriteLine($"the dialer read {received} bytes in {stopwatch.Elapsed.TotalMilliseconds:0} ms");
        await channel.Output.CompleteAsync();

        // Both ends were alive and busy the whole time: everything arrives and neither side declares the other hung.
        Assert.Equal(Length, received);
        await sent.Task.WithTimeout();
        Assert.False(channel.Aborted.IsCancellationRequested, "the dialer's channel was lost though it read all along");
    }

    /// <summary>
    /// A TCP relay standing for a slow link: each direction is forwarded at its own fixed rate, or at once when 0 (the
    /// bytes behind wait in the sockets' buffers, as on a real link).
    /// </summary>
    private sealed class SlowLink : IAsyncDisposable
    {
        private const int Chunk = 4 * 1024;
        private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly IPEndPoint _target;
        private readonly int _toListener;
        private readonly int _toDialer;
        private readonly List<Socket> _sockets = [];
        private readonly CancellationTokenSource _stopped = new();
        private readonly Task _accepting;

        public SlowLink(IPEndPoint target, int toListener, int toDialer)
        {
            _target = target;
            _toListener = toListener;
            _toDialer = toDialer;
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen();
            _accepting = AcceptAsync();
        }

        public DnsEndPoint Address => new("127.0.0.1", ((IPEndPoint)_listener.LocalEndPoint!).Port);

        public async ValueTask DisposeAsync()
        {
            _stopped.Cancel();
            _listener.Close();
            lock (_sockets)
            {
                foreach (var socket in _sockets)
                {
                    socket.Close();
                }
            }

            await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        private async Task AcceptAsync()
        {
            while (!_stopped.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await _listener.AcceptAsync(_stopped.Token);
                }
                catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
                {
                    return;
                }

                var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                client.NoDelay = true;
                await server.ConnectAsync(_target);
                lock (_sockets)
                {
                    _sockets.Add(client);
                    _sockets.Add(server);
                }

                _ = RelayAsync(client, server, _toListener);
                _ = RelayAsync(server, client, _toDialer);
            }
        }

        // The link's pace, not a wait for anything the test does: the relay forwards each chunk when the rate allows.
        private async Task RelayAsync(Socket from, Socket to, int bytesPerSecond)
        {
            var buffer = new byte[bytesPerSecond == 0 ? 64 * 1024 : Chunk];
            var clock = Stopwatch.StartNew();
            long forwarded = 0;
            try
            {
                while (true)
                {
                    var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stopped.Token);
                    if (read == 0)
                    {
                        to.Shutdown(SocketShutdown.Send);
                        return;
                    }

                    if (bytesPerSecond != 0)
                    {
                        var due = TimeSpan.FromSeconds((double)forwarded / bytesPerSecond);
                        if (due > clock.Elapsed)
                        {
                            await Task.Delay(due - clock.Elapsed, _stopped.Token);
                        }
                    }

                    await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stopped.Token);
                    forwarded += read;
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // The link is torn down, or one side closed.
            }
        }
    }
}
