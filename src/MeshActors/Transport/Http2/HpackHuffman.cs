namespace MeshActors.Transport.Http2;

/// <summary>Decodes HPACK's Huffman-coded string literals (RFC 7541 section 5.2 and Appendix B).</summary>
/// <remarks>
/// HPACK's code is canonical: ordering the symbols by (code length, symbol) and counting up, one more at each step and
/// doubled each time the length grows, yields the RFC's codes. So only the lengths are written down here, and the
/// decoder needs no tree: the codes of one length form a consecutive run, and a window of the next bits is a code of
/// length n exactly when its first n bits fall below the end of the run of length n, for the first such n.
/// </remarks>
internal static class HpackHuffman
{
    /// <summary>The symbol that ends a string; an encoder never sends it, and a decoder that meets it must fail.</summary>
    public const int EndOfString = 256;

    public const int MaxCodeLength = 30;

    /// <summary>The code length of each symbol, 0 to 255 and then <see cref="EndOfString"/>, from RFC 7541 Appendix B.</summary>
    public static ReadOnlySpan<byte> CodeLengths =>
    [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
        28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
        5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
        7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
        6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
        24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
        21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
        19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
        26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
        30,
    ];

    private const uint WindowMask = (1u << MaxCodeLength) - 1;

    private static readonly uint[] Codes = new uint[EndOfString + 1];

    // Per code length n: where the run of n-bit codes starts among the symbols in code order, its first code, and the
    // first code above it.
    private static readonly ushort[] SymbolsInCodeOrder = new ushort[EndOfString + 1];
    private static readonly int[] RunStart = new int[MaxCodeLength + 1];
    private static readonly uint[] RunFirstCode = new uint[MaxCodeLength + 1];
    private static readonly uint[] RunEnd = new uint[MaxCodeLength + 1];
    private static readonly int MinCodeLength;

    static HpackHuffman()
    {
        var lengths = CodeLengths;
        var symbols = 0;
        uint code = 0;
        for (var length = 1; length <= MaxCodeLength; length++)
        {
            RunStart[length] = symbols;
            RunFirstCode[length] = code;
            for (var symbol = 0; symbol <= EndOfString; symbol++)
            {
                if (lengths[symbol] == length)
                {
                    SymbolsInCodeOrder[symbols++] = (ushort)symbol;
                    Codes[symbol] = code++;
                }
            }

            if (MinCodeLength == 0 && symbols > 0)
            {
                MinCodeLength = length;
            }

            RunEnd[length] = code;
            code <<= 1;
        }
    }

    /// <summary>The code of <paramref name="symbol"/>, right-aligned, as the RFC prints it.</summary>
    public static (uint Code, int Length) CodeOf(int symbol) => (Codes[symbol], CodeLengths[symbol]);

    /// <summary>The most bytes <paramref name="encodedLength"/> bytes of code can decode to: the shortest code has 5 bits.</summary>
    public static int MaxDecodedLength(int encodedLength) => (int)((long)encodedLength * 8 / 5);

    /// <summary>Decodes <paramref name="encoded"/> into <paramref name="destination"/> (at least <see cref="MaxDecodedLength"/> long); returns the bytes written.</summary>
    /// <exception cref="HpackException">The string holds the end-of-string symbol, or ends in padding that is longer than 7 bits or not all ones.</exception>
    public static int Decode(ReadOnlySpan<byte> encoded, Span<byte> destination)
    {
        // The unread bits are the low bitCount bits of bits: fewer than 30 and a byte, so the ulong never overflows.
        ulong bits = 0;
        var bitCount = 0;
        var next = 0;
        var written = 0;
        while (true)
        {
            while (bitCount < MaxCodeLength && next < encoded.Length)
            {
                bits = (bits << 8) | encoded[next++];
                bitCount += 8;
            }

            if (bitCount == 0)
            {
                return written;
            }

            var window = Window(bits, bitCount);
            var length = MinCodeLength;
            while ((window >> (MaxCodeLength - length)) >= RunEnd[length])
            {
                length++;
            }

            if (length > bitCount)
            {
                // No whole code is left: what is left is padding, the most significant bits of the end-of-string code.
                var padding = bits & ((1UL << bitCount) - 1);
                if (bitCount > 7 || padding != (1UL << bitCount) - 1)
                {
                    throw new HpackException("A Huffman-coded string ends in padding that is longer than 7 bits or not all ones.");
                }

                return written;
            }

            var code = window >> (MaxCodeLength - length);
            var symbol = SymbolsInCodeOrder[RunStart[length] + (int)(code - RunFirstCode[length])];
            if (symbol == EndOfString)
            {
                throw new HpackException("A Huffman-coded string holds the end-of-string symbol.");
            }

            destination[written++] = (byte)symbol;
            bitCount -= length;
            bits &= (1UL << bitCount) - 1;
        }
    }

    /// <summary>The next 30 unread bits, completed with ones (the padding's bits) when fewer are left.</summary>
    private static uint Window(ulong bits, int bitCount) => bitCount >= MaxCodeLength
        ? (uint)(bits >> (bitCount - MaxCodeLength)) & WindowMask
        : (uint)((bits << (MaxCodeLength - bitCount)) | ((1UL << (MaxCodeLength - bitCount)) - 1)) & WindowMask;
}
