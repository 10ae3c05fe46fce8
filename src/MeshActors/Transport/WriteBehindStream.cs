using System.IO.Pipelines;
using System.Net.Sockets;

namespace MeshActors.Transport;

/// <summary>
/// The dialer's connection. SocketsHttpHandler frames a request body 16 KB at a time and sends each 32 KB it
/// gathered with a socket write it waits for before framing more, so data flowing from the dialer moved at the
/// latency of that chain. This stream takes those writes into a bounded buffer and returns; its own loop sends what
/// gathered, so the handler frames the next piece while the kernel copies the last. Reads go straight to the socket.
/// </summary>
internal sealed class WriteBehindStream : Stream
{
    // A write smaller than one DATA frame is a message someone waits for, not bulk: it skips the queue when the
    // queue is empty, rather than arriving a thread hop later.
    private const int InlineWriteLimit = 16 * 1024;

    private readonly NetworkStream _socket;
    private readonly Pipe _queue;
    private readonly Task _sending;
    private long _unsent;
    private Exception? _failure;
    private bool _disposed;

    /// <param name="socket">A connected socket; the stream owns it.</param>
    /// <param name="bufferBytes">How many unsent bytes a write may leave behind before it waits for the socket.</param>
    public WriteBehindStream(Socket socket, int bufferBytes)
    {
        _socket = new NetworkStream(socket, ownsSocket: true);
        _queue = new Pipe(new PipeOptions(
            pauseWriterThreshold: bufferBytes,
            resumeWriterThreshold: bufferBytes / 2,
            minimumSegmentSize: 64 * 1024,
            useSynchronizationContext: false));
        _sending = SendQueuedAsync();
    }

    /// <summary>Bytes written but not yet handed to the socket.</summary>
    public long UnsentBytes => Volatile.Read(ref _unsent);

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _socket.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _socket.ReadAsync(buffer, offset, count, cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => _socket.Read(buffer, offset, count);

    /// <summary>Queues <paramref name="buffer"/> (or sends it, when small and nothing is queued); waits only while the queue is full.</summary>
    /// <exception cref="IOException">An earlier send failed; the connection is closed.</exception>
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);

        // The handler writes from one loop at a time, so with nothing unsent the send loop is idle until the next
        // queued write, and this send cannot overtake anything.
        if (buffer.Length < InlineWriteLimit && Volatile.Read(ref _unsent) == 0)
        {
            await _socket.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            return;
        }

        Interlocked.Add(ref _unsent, buffer.Length);
        var result = await _queue.Writer.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (result.IsCompleted)
        {
            throw new IOException("The connection failed while sending queued data.", _failure);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    // Nothing to do: the send loop runs whenever the queue holds bytes.
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Closes the socket; bytes still queued are dropped, as a closed socket drops its own send buffer.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            // The writer is the handler's alone, even now: the send loop ends on the cancelled read (or on the
            // closed socket, when it is sending) and completes the queue itself.
            _disposed = true;
            _queue.Reader.CancelPendingRead();
            _socket.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
        await _sending.ConfigureAwait(false);
    }

    private async Task SendQueuedAsync()
    {
        var reader = _queue.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    break;
                }

                var buffer = result.Buffer;
                foreach (var segment in buffer)
                {
                    await _socket.WriteAsync(segment).ConfigureAwait(false);
                }

                Interlocked.Add(ref _unsent, -buffer.Length);
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }

            await reader.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The handler learns of it from its next write, and at once from its read loop: the socket is closed.
            _failure = ex;
            await reader.CompleteAsync(ex).ConfigureAwait(false);
            _socket.Dispose();
        }
    }
}
