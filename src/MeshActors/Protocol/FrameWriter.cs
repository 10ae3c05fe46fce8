using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace MeshActors.Protocol;

/// <summary>Writes length-prefixed frames and envelopes into a <see cref="PipeWriter"/>, many frames per buffer block.</summary>
/// <remarks>
/// The writer takes a block of <see cref="ProtocolOptions.WriteBlockSize"/> bytes from the pipe once, encodes frames
/// straight into it (the length prefix is patched in after the payload), and hands it to the pipe with one
/// <see cref="PipeWriter.Advance"/> when it is full or at <see cref="Commit"/>: asking the pipe for space per frame
/// costs most of the throughput of small frames. A frame larger than a block goes into the pipe's memory directly.
/// The caller decides when to flush (a byte threshold on <see cref="UnflushedBytes"/>, or an empty send queue).
/// One writer per channel direction; not thread-safe.
/// </remarks>
internal sealed class FrameWriter
{
    private const int LengthSize = FrameReader.LengthSize;

    // Utf8JsonWriter asks for 256 bytes before its first token; a frame starts only where that much room is left.
    private const int MinimumFrameRoom = LengthSize + 256;

    private static readonly JsonWriterOptions JsonOptions = new()
    {
        SkipValidation = true,
        // Non-ASCII text goes out as UTF-8, not \u escapes (docs/protocol.md 4.1); the output is never embedded in HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly PipeWriter _output;
    private readonly int _blockSize;
    private readonly Utf8JsonWriter _json;
    private Memory<byte> _block;
    private int _position;
    private int _frameStart;
    private long _unflushedBytes;

    public FrameWriter(PipeWriter output, ProtocolOptions? options = null)
    {
        _output = output;
        _blockSize = (options ?? new ProtocolOptions()).WriteBlockSize;
        _json = new Utf8JsonWriter(new BlockOutput(this), JsonOptions);
    }

    /// <summary>The largest payload the peer accepts: <see cref="ProtocolOptions.DefaultMaxFrameSize"/> until <see cref="ApplyPeerHello"/>.</summary>
    public int PeerMaxFrameSize { get; private set; } = ProtocolOptions.DefaultMaxFrameSize;

    /// <summary>True once the peer's hello announced the binary attachment capability.</summary>
    public bool PeerAcceptsAttachments { get; private set; }

    /// <summary>Bytes written since the last <see cref="FlushAsync"/>, committed or not.</summary>
    public long UnflushedBytes => _unflushedBytes;

    /// <summary>Adopts the frame limit and capabilities the peer announced.</summary>
    public void ApplyPeerHello(Envelope.Hello peer)
    {
        PeerMaxFrameSize = peer.MaxFrameSize;
        PeerAcceptsAttachments = peer.AcceptsAttachments;
    }

    /// <summary>Writes <paramref name="envelope"/> as one frame, followed by its attachment frame when it has one.</summary>
    /// <exception cref="FrameTooLargeException">The envelope or its attachment is above the peer's limit; nothing was written.</exception>
    /// <exception cref="NotSupportedException">The envelope has an attachment and the peer does not accept attachments.</exception>
    public void Write(Envelope envelope)
    {
        var attachment = EnvelopeEncoder.AttachmentOf(envelope);
        if (!attachment.IsEmpty)
        {
            if (!PeerAcceptsAttachments)
            {
                throw new NotSupportedException("The peer did not announce the 'bin' capability: it cannot take binary attachments.");
            }

            EnsureWithinPeerLimit(attachment.Length);
        }

        EnsureWithinPeerLimit(EnvelopeEncoder.DataOf(envelope).Length);

        Reserve(MinimumFrameRoom);
        _frameStart = _position;
        _position += LengthSize;
        try
        {
            _json.Reset();
            EnvelopeEncoder.Write(_json, envelope);
            _json.Flush();
            EnsureWithinPeerLimit(_position - _frameStart - LengthSize);
        }
        catch
        {
            _position = _frameStart;
            throw;
        }

        var length = _position - _frameStart - LengthSize;
        BinaryPrimitives.WriteUInt32BigEndian(_block.Span[_frameStart..], (uint)length);
        _unflushedBytes += LengthSize + length;

        if (!attachment.IsEmpty)
        {
            WriteFrame(attachment.Span);
        }
    }

    /// <summary>Writes one frame whose payload is <paramref name="payload"/>, copied once into the pipe's memory.</summary>
    /// <exception cref="FrameTooLargeException">The payload is above the peer's limit; nothing was written.</exception>
    public void WriteFrame(ReadOnlySpan<byte> payload)
    {
        EnsureWithinPeerLimit(payload.Length);
        var frameLength = LengthSize + payload.Length;
        if (frameLength > _blockSize)
        {
            // Too big to share a block: the pipe gives it contiguous memory of its own, and the copy there is the only one.
            Commit();
            Put(_output.GetSpan(frameLength), payload);
            _output.Advance(frameLength);
        }
        else
        {
            Reserve(frameLength);
            Put(_block.Span[_position..], payload);
            _position += frameLength;
        }

        _unflushedBytes += frameLength;
    }

    /// <summary>Hands the frames written so far to the pipe without flushing it.</summary>
    public void Commit()
    {
        if (_position > 0)
        {
            _output.Advance(_position);
        }

        _block = default;
        _position = 0;
    }

    /// <summary>Commits and flushes everything written so far.</summary>
    public ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        Commit();
        _unflushedBytes = 0;
        return _output.FlushAsync(cancellationToken);
    }

    private static void Put(Span<byte> destination, ReadOnlySpan<byte> payload)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)payload.Length);
        payload.CopyTo(destination[LengthSize..]);
    }

    private void EnsureWithinPeerLimit(long length)
    {
        if (length > PeerMaxFrameSize)
        {
            throw new FrameTooLargeException(length, PeerMaxFrameSize);
        }
    }

    private void Reserve(int size)
    {
        if (_block.Length - _position < size)
        {
            Commit();
            _block = _output.GetMemory(Math.Max(_blockSize, size));
        }
    }

    // The JSON writer asked for more room than the block has left: carry the frame begun so far over to a new block.
    private Memory<byte> Grow(int sizeHint)
    {
        var partialLength = _position - _frameStart;
        var carried = ArrayPool<byte>.Shared.Rent(partialLength);
        _block.Span.Slice(_frameStart, partialLength).CopyTo(carried);
        _position = _frameStart;
        Commit();
        _block = _output.GetMemory(Math.Max(_blockSize, partialLength + sizeHint));
        carried.AsSpan(0, partialLength).CopyTo(_block.Span);
        ArrayPool<byte>.Shared.Return(carried);
        _frameStart = 0;
        _position = partialLength;
        return _block[_position..];
    }

    /// <summary>The JSON writer's view of the block: the space after the frame being encoded.</summary>
    private sealed class BlockOutput(FrameWriter owner) : IBufferWriter<byte>
    {
        public void Advance(int count) => owner._position += count;

        public Memory<byte> GetMemory(int sizeHint = 0) =>
            owner._block.Length - owner._position >= Math.Max(sizeHint, 1)
                ? owner._block[owner._position..]
                : owner.Grow(Math.Max(sizeHint, 1));

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
    }
}
