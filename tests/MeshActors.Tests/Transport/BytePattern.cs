using System.Buffers;
using System.IO.Pipelines;

namespace MeshActors.Tests.Transport;

/// <summary>
/// A reproducible byte stream where every byte depends on its position, so that a lost, repeated or reordered
/// byte anywhere is caught; written in randomly sized pieces and checked piece by piece as it arrives.
/// </summary>
internal sealed class BytePattern(int seed)
{
    private const int BlockSize = 1 << 20;
    private readonly byte[] _block = CreateBlock(seed);

    /// <summary>Writes <paramref name="length"/> bytes in pieces of 1 byte to 64 KB, flushing after each.</summary>
    public async Task WriteAsync(PipeWriter output, long length, int writeSeed)
    {
        var random = new Random(writeSeed);
        for (long position = 0; position < length;)
        {
            var size = (int)Math.Min(length - position, random.Next(4) == 0 ? random.Next(1, 64) : random.Next(1, 64 * 1024));
            Fill(output.GetSpan(size)[..size], position);
            output.Advance(size);
            position += size;
            await output.FlushAsync();
        }
    }

    /// <summary>Reads until the input completes, checking every byte; returns how many arrived.</summary>
    public async Task<long> ReadToEndAsync(PipeReader input)
    {
        long position = 0;
        while (true)
        {
            var result = await input.ReadAsync();
            foreach (var segment in result.Buffer)
            {
                Verify(segment.Span, position);
                position += segment.Length;
            }

            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return position;
            }
        }
    }

    public void Fill(Span<byte> destination, long position)
    {
        while (!destination.IsEmpty)
        {
            var offset = (int)(position % BlockSize);
            var count = Math.Min(destination.Length, BlockSize - offset);
            var salt = (byte)(position / BlockSize);
            for (var i = 0; i < count; i++)
            {
                destination[i] = (byte)(_block[offset + i] ^ salt);
            }

            destination = destination[count..];
            position += count;
        }
    }

    private void Verify(ReadOnlySpan<byte> received, long position)
    {
        Span<byte> expected = stackalloc byte[4096];
        while (!received.IsEmpty)
        {
            var count = Math.Min(received.Length, expected.Length);
            Fill(expected[..count], position);
            var mismatch = received[..count].CommonPrefixLength(expected[..count]);
            if (mismatch != count)
            {
                Assert.Fail($"byte {position + mismatch} differs: got {received[mismatch]}, expected {expected[mismatch]}");
            }

            received = received[count..];
            position += count;
        }
    }

    private static byte[] CreateBlock(int seed)
    {
        var block = new byte[BlockSize];
        new Random(seed).NextBytes(block);
        return block;
    }
}
