using System.Buffers;
using System.Buffers.Binary;

namespace MeshActors.Protocol;

/// <summary>Takes length-prefixed frames off the front of a receive buffer without copying them.</summary>
/// <remarks>
/// A channel's read loop:
/// <code>
/// var result = await input.ReadAsync(ct);
/// var buffer = result.Buffer;
/// while (FrameReader.TryReadFrame(ref buffer, maxFrameSize, out var payload)) { handle(payload); }
/// if (result.IsCompleted) { FrameReader.EnsureNothingLeft(buffer); /* the stream ended cleanly */ }
/// input.AdvanceTo(buffer.Start, buffer.End);
/// </code>
/// A payload is a slice of the pipe's buffer, valid until the <c>AdvanceTo</c>.
/// </remarks>
internal static class FrameReader
{
    /// <summary>Bytes of the big-endian unsigned length prefix.</summary>
    public const int LengthSize = 4;

    /// <summary>Takes the first frame off <paramref name="buffer"/> when it is complete; false when more data is needed.</summary>
    /// <exception cref="FrameTooLargeException">The length prefix is above <paramref name="maxFrameSize"/>: framing is lost.</exception>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxFrameSize, out ReadOnlySequence<byte> payload)
    {
        if (!TryReadLength(buffer, out var length))
        {
            payload = default;
            return false;
        }

        EnsureAllowed(length, maxFrameSize);
        if (buffer.Length - LengthSize < length)
        {
            payload = default;
            return false;
        }

        payload = buffer.Slice(LengthSize, length);
        buffer = buffer.Slice(payload.End);
        return true;
    }

    /// <summary>Takes only the next frame's length prefix off <paramref name="buffer"/>, for a reader that takes the payload as it arrives; false when the prefix is not complete.</summary>
    /// <exception cref="FrameTooLargeException">The length prefix is above <paramref name="maxFrameSize"/>: framing is lost.</exception>
    public static bool TryReadLength(ref ReadOnlySequence<byte> buffer, int maxFrameSize, out uint length)
    {
        if (!TryReadLength(buffer, out length))
        {
            return false;
        }

        EnsureAllowed(length, maxFrameSize);
        buffer = buffer.Slice(LengthSize);
        return true;
    }

    /// <summary>Call when the stream has ended: throws unless <paramref name="remaining"/> (what <see cref="TryReadFrame"/> left) is empty.</summary>
    /// <exception cref="TruncatedFrameException">The stream ended inside a frame.</exception>
    public static void EnsureNothingLeft(in ReadOnlySequence<byte> remaining)
    {
        if (remaining.IsEmpty)
        {
            return;
        }

        throw new TruncatedFrameException(TryReadLength(remaining, out var length)
            ? $"The stream ended inside a frame: {remaining.Length - LengthSize} of its {length} bytes arrived."
            : $"The stream ended inside a frame's length prefix: {remaining.Length} of its {LengthSize} bytes arrived.");
    }

    // Checked as soon as the prefix is in, so that a bad one never makes the reader wait for gigabytes.
    private static void EnsureAllowed(uint length, int maxFrameSize)
    {
        if (length > (uint)maxFrameSize)
        {
            throw new FrameTooLargeException(length, maxFrameSize);
        }
    }

    private static bool TryReadLength(in ReadOnlySequence<byte> buffer, out uint length)
    {
        var first = buffer.FirstSpan;
        if (first.Length >= LengthSize)
        {
            length = BinaryPrimitives.ReadUInt32BigEndian(first);
            return true;
        }

        // The prefix straddles buffer segments.
        var reader = new SequenceReader<byte>(buffer);
        var complete = reader.TryReadBigEndian(out int value);
        length = (uint)value;
        return complete;
    }
}
