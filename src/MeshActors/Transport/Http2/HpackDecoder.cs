using System.Buffers;
using System.Text;

namespace MeshActors.Transport.Http2;

/// <summary>Decodes the header blocks of one connection (RFC 7541); its dynamic table lives as long as the connection.</summary>
internal sealed class HpackDecoder
{
    /// <summary>SETTINGS_HEADER_TABLE_SIZE's default (RFC 9113 section 6.5.2), which we never change.</summary>
    public const int DefaultMaxTableSize = 4096;

    // RFC 9113 section 6.5.2 counts a header list as HPACK counts a table (name + value + 32 per field).
    private const int FieldOverhead = HpackDynamicTable.EntryOverhead;

    private readonly int _maxHeaderListSize;
    private readonly int _tableSizeLimit;
    private readonly HpackDynamicTable _table;

    /// <param name="maxHeaderListSize">The most bytes one block may decode to, counted as RFC 9113 does: name + value + 32 per field.</param>
    public HpackDecoder(int maxHeaderListSize = 64 * 1024)
        : this(maxHeaderListSize, DefaultMaxTableSize)
    {
    }

    /// <param name="maxHeaderListSize">The most bytes one block may decode to, counted as RFC 9113 does: name + value + 32 per field.</param>
    /// <param name="maxTableSize">The SETTINGS_HEADER_TABLE_SIZE we advertised: the dynamic table's size until the encoder updates it, and the most it may update it to.</param>
    internal HpackDecoder(int maxHeaderListSize, int maxTableSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxHeaderListSize);
        ArgumentOutOfRangeException.ThrowIfNegative(maxTableSize);
        _maxHeaderListSize = maxHeaderListSize;
        _tableSizeLimit = maxTableSize;
        _table = new HpackDynamicTable(maxTableSize);
    }

    /// <summary>The dynamic table's current size and entries, for specs.</summary>
    internal HpackDynamicTable Table => _table;

    /// <summary>Decodes one complete header block (a HEADERS frame's fragment and its CONTINUATIONs, concatenated), appending its fields to <paramref name="headers"/> in order.</summary>
    /// <remarks>Names and values are read as Latin-1, a char per byte; names are left as sent.</remarks>
    /// <exception cref="HpackException">The block is malformed or decodes to more than the header list size allows.</exception>
    public void Decode(ReadOnlySpan<byte> block, List<KeyValuePair<string, string>> headers)
    {
        var position = 0;
        var listSize = 0;
        var fieldSeen = false;
        while (position < block.Length)
        {
            var first = block[position];
            KeyValuePair<string, string> field;
            if ((first & 0x80) != 0)
            {
                // 1xxxxxxx: an indexed field.
                field = Field(HpackInteger.Read(block, ref position, 7));
            }
            else if ((first & 0x40) != 0)
            {
                // 01xxxxxx: a literal the table remembers.
                field = ReadLiteral(block, ref position, 6);
                _table.Add(field.Key, field.Value);
            }
            else if ((first & 0x20) != 0)
            {
                // 001xxxxx: a dynamic table size update, allowed only before the block's first field (RFC 7541 section 4.2).
                if (fieldSeen)
                {
                    throw new HpackException("A dynamic table size update follows a header field.");
                }

                var size = HpackInteger.Read(block, ref position, 5);
                if (size > _tableSizeLimit)
                {
                    throw new HpackException($"A dynamic table size update to {size} bytes exceeds the {_tableSizeLimit} we allow.");
                }

                _table.Resize(size);
                continue;
            }
            else
            {
                // 0001xxxx never indexed, 0000xxxx without indexing: to a decoder, the same literal.
                field = ReadLiteral(block, ref position, 4);
            }

            fieldSeen = true;
            listSize += field.Key.Length + field.Value.Length + FieldOverhead;
            if (listSize > _maxHeaderListSize)
            {
                throw new HpackException($"The header block decodes to more than {_maxHeaderListSize} bytes.");
            }

            headers.Add(field);
        }
    }

    private KeyValuePair<string, string> ReadLiteral(ReadOnlySpan<byte> block, ref int position, int prefixBits)
    {
        var nameIndex = HpackInteger.Read(block, ref position, prefixBits);
        var name = nameIndex == 0 ? ReadString(block, ref position) : Field(nameIndex).Key;
        return new(name, ReadString(block, ref position));
    }

    private KeyValuePair<string, string> Field(int index)
    {
        if (index == 0)
        {
            throw new HpackException("A header field refers to index 0.");
        }

        if (index <= HpackStaticTable.Count)
        {
            return HpackStaticTable.Get(index);
        }

        if (index - HpackStaticTable.Count > _table.Count)
        {
            throw new HpackException($"A header field refers to index {index}, beyond the {HpackStaticTable.Count + _table.Count} in the tables.");
        }

        return _table[index - HpackStaticTable.Count];
    }

    /// <summary>Reads a string literal (RFC 7541 section 5.2): a Huffman flag and a 7-bit-prefix length, then that many bytes.</summary>
    private string ReadString(ReadOnlySpan<byte> block, ref int position)
    {
        if (position == block.Length)
        {
            throw new HpackException("The header block ends before a string literal.");
        }

        var huffman = (block[position] & 0x80) != 0;
        var length = HpackInteger.Read(block, ref position, 7);
        if (length > block.Length - position)
        {
            throw new HpackException($"A string literal of {length} bytes runs past the end of the header block.");
        }

        var encoded = block.Slice(position, length);
        position += length;
        if (!huffman)
        {
            return Encoding.Latin1.GetString(encoded);
        }

        var decoded = ArrayPool<byte>.Shared.Rent(HpackHuffman.MaxDecodedLength(length));
        try
        {
            return Encoding.Latin1.GetString(decoded, 0, HpackHuffman.Decode(encoded, decoded));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(decoded);
        }
    }
}
