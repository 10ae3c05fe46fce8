namespace MeshActors.Transport.Http2;

/// <summary>HPACK's prefix integers (RFC 7541 section 5.1): a value in the low bits of a first byte, continued in 7-bit groups when it does not fit.</summary>
internal static class HpackInteger
{
    /// <summary>The most bytes <see cref="Write"/> needs: a first byte and five 7-bit groups hold any int.</summary>
    public const int MaxLength = 6;

    /// <summary>Reads an integer whose first byte is <c>block[position]</c> and whose prefix is its low <paramref name="prefixBits"/> bits, advancing past it.</summary>
    /// <exception cref="HpackException">The block ends inside the integer, or it does not fit in an int.</exception>
    public static int Read(ReadOnlySpan<byte> block, ref int position, int prefixBits)
    {
        var prefixMax = (1 << prefixBits) - 1;
        var value = block[position++] & prefixMax;
        if (value < prefixMax)
        {
            return value;
        }

        long total = value;
        for (var shift = 0; ; shift += 7)
        {
            if (position == block.Length)
            {
                throw new HpackException("The header block ends inside an integer.");
            }

            var next = block[position++];
            total += (long)(next & 0x7f) << shift;
            if (total > int.MaxValue || shift > 28)
            {
                // Also ends a run of redundant zero groups, which the RFC allows but no encoder sends.
                throw new HpackException("An integer in the header block does not fit in 31 bits.");
            }

            if ((next & 0x80) == 0)
            {
                return (int)total;
            }
        }
    }

    /// <summary>Writes <paramref name="value"/> with a <paramref name="prefixBits"/>-bit prefix after the <paramref name="pattern"/> bits of the first byte; returns the bytes written.</summary>
    public static int Write(int value, int prefixBits, byte pattern, Span<byte> destination)
    {
        var prefixMax = (1 << prefixBits) - 1;
        if (value < prefixMax)
        {
            destination[0] = (byte)(pattern | value);
            return 1;
        }

        destination[0] = (byte)(pattern | prefixMax);
        var written = 1;
        var rest = (uint)(value - prefixMax);
        while (rest >= 0x80)
        {
            destination[written++] = (byte)(rest | 0x80);
            rest >>= 7;
        }

        destination[written++] = (byte)rest;
        return written;
    }
}
