using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using MeshActors.Testing;
using MeshActors.Transport;

namespace MeshActors.Tests.Transport;

using MeshActors.TestKit;

public sealed class WriteBehindStreamSpec
{
    private const int BufferBytes = 256 * 1024;

    [Fact]
    public async Task Bytes_must_arrive_in_the_order_written_whether_sent_at_once_or_queued()
    {
        var (dialed, accepted) = await ConnectAsync();
        await using var stream = new WriteBehindStream(dialed, BufferBytes);
        await using var remote = new NetworkStream(accepted, ownsSocket: true);
        var pattern = new BytePattern(seed: 3);
        var arrived = pattern.ReadToEndAsync(PipeReader.Create(remote));

        // Pieces of 1 byte to 64 KB: small ones go out at once when nothing is queued and must queue behind the rest.
        const long Length = 64L << 20;
        await pattern.WriteAsync(PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true)), Length, writeSeed: 5).WithTimeout();
        await Conditions.AwaitConditionAsync(() => stream.UnsentBytes == 0);
        dialed.Shutdown(SocketShutdown.Send);

        Assert.Equal(Length, await arrived.WithTimeout());
    }

    [Fact]
    public async Task When_the_remote_reads_nothing_writes_must_wait_for_room_rather_than_buffer_without_bound()
    {
        var (dialed, accepted) = await ConnectAsync();
        await using var stream = new WriteBehindStream(dialed, BufferBytes);
        await using var remote = new NetworkStream(accepted, ownsSocket: true);
        var chunk = new byte[64 * 1024];

        // The kernel's socket buffers take a few megabytes; past them, only the stream's own buffer.
        const long Bound = 64L << 20;
        long taken = 0;
        var write = ValueTask.CompletedTask;
        while (taken < Bound && (write = stream.WriteAsync(chunk)).IsCompleted)
        {
            await write;
            taken += chunk.Length;
        }

        Assert.True(taken < Bound, $"took {taken} bytes with nobody reading");
        _ = remote.CopyToAsync(Stream.Null);
        await write.AsTask().WithTimeout();
    }

    [Fact]
    public async Task Once_the_connection_is_reset_writes_must_fail_rather_than_hang()
    {
        var (dialed, accepted) = await ConnectAsync();
        await using var stream = new WriteBehindStream(dialed, BufferBytes);
        accepted.LingerState = new LingerOption(enable: true, seconds: 0);
        accepted.Dispose();

        var chunk = new byte[64 * 1024];
        var failure = await Assert.ThrowsAsync<IOException>(async () =>
        {
            while (true)
            {
                await stream.WriteAsync(chunk).AsTask().WithTimeout();
            }
        });
        Assert.NotNull(failure.InnerException);
    }

    private static async Task<(Socket Dialed, Socket Accepted)> ConnectAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var dialed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accepting = listener.AcceptAsync();
        await dialed.ConnectAsync(listener.LocalEndPoint!);
        return (dialed, await accepting);
    }
}
