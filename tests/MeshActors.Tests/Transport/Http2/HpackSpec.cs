using System.Buffers;
using MeshActors.Transport.Http2;

namespace MeshActors.Tests.Transport.Http2;

/// <summary>HPACK as RFC 7541 specifies it: its Appendix C examples byte for byte, its Huffman code, and every malformed block refused.</summary>
public sealed class HpackSpec
{
    private const string CookieValue = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";

    [Theory]
    [InlineData(10, 5, "0a")]
    [InlineData(1337, 5, "1f9a0a")]
    [InlineData(42, 8, "2a")]
    public void Integers_must_be_coded_with_a_prefix_as_in_RFC_7541_C_1(int value, int prefixBits, string hex)
    {
        var bytes = new byte[HpackInteger.MaxLength];
        var written = HpackInteger.Write(value, prefixBits, 0x00, bytes);

        Assert.Equal(hex, Convert.ToHexStringLower(bytes, 0, written));
        var position = 0;
        Assert.Equal(value, HpackInteger.Read(bytes.AsSpan(0, written), ref position, prefixBits));
        Assert.Equal(written, position);
    }

    [Fact]
    public void A_literal_with_indexing_must_be_decoded_and_remembered_as_in_C_2_1()
    {
        var decoder = new HpackDecoder();

        Assert.Equal([new("custom-key", "custom-header")], Decode(decoder, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
        AssertTable(decoder, 55, ("custom-key", "custom-header"));
    }

    [Fact]
    public void A_literal_without_indexing_must_be_decoded_and_forgotten_as_in_C_2_2()
    {
        var decoder = new HpackDecoder();

        Assert.Equal([new(":path", "/sample/path")], Decode(decoder, "040c 2f73 616d 706c 652f 7061 7468"));
        AssertTable(decoder, 0);
    }

    [Fact]
    public void A_literal_never_indexed_must_be_decoded_and_forgotten_as_in_C_2_3()
    {
        var decoder = new HpackDecoder();

        Assert.Equal([new("password", "secret")], Decode(decoder, "1008 7061 7373 776f 7264 0673 6563 7265 74"));
        AssertTable(decoder, 0);
    }

    [Fact]
    public void An_indexed_field_must_be_taken_from_the_static_table_as_in_C_2_4()
    {
        var decoder = new HpackDecoder();

        Assert.Equal([new(":method", "GET")], Decode(decoder, "82"));
        AssertTable(decoder, 0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Requests_on_one_connection_must_share_the_dynamic_table_as_in_C_3_and_C_4(bool huffman)
    {
        string[] blocks = huffman
            ? ["8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
               "8286 84be 5886 a8eb 1064 9cbf",
               "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"]
            : ["8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
               "8286 84be 5808 6e6f 2d63 6163 6865",
               "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"];
        var decoder = new HpackDecoder();

        Assert.Equal(
            Fields((":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")),
            Decode(decoder, blocks[0]));
        AssertTable(decoder, 57, (":authority", "www.example.com"));

        Assert.Equal(
            Fields((":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"), ("cache-control", "no-cache")),
            Decode(decoder, blocks[1]));
        AssertTable(decoder, 110, ("cache-control", "no-cache"), (":authority", "www.example.com"));

        Assert.Equal(
            Fields((":method", "GET"), (":scheme", "https"), (":path", "/index.html"), (":authority", "www.example.com"), ("custom-key", "custom-value")),
            Decode(decoder, blocks[2]));
        AssertTable(decoder, 164, ("custom-key", "custom-value"), ("cache-control", "no-cache"), (":authority", "www.example.com"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Responses_must_evict_the_oldest_entries_of_a_256_byte_table_as_in_C_5_and_C_6(bool huffman)
    {
        string[] blocks = huffman
            ? ["4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
               "4883 640e ffc1 c0bf",
               "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07"]
            : ["4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
               "4803 3330 37c1 c0bf",
               "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31"];
        var decoder = new HpackDecoder(maxHeaderListSize: 64 * 1024, maxTableSize: 256);

        Assert.Equal(
            Fields((":status", "302"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com")),
            Decode(decoder, blocks[0]));
        AssertTable(decoder, 222,
            ("location", "https://www.example.com"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("cache-control", "private"), (":status", "302"));

        Assert.Equal(
            Fields((":status", "307"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com")),
            Decode(decoder, blocks[1]));
        AssertTable(decoder, 222,
            (":status", "307"), ("location", "https://www.example.com"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("cache-control", "private"));

        Assert.Equal(
            Fields((":status", "200"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT"), ("location", "https://www.example.com"),
                ("content-encoding", "gzip"), ("set-cookie", CookieValue)),
            Decode(decoder, blocks[2]));
        AssertTable(decoder, 215, ("set-cookie", CookieValue), ("content-encoding", "gzip"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT"));
    }

    [Fact]
    public void A_field_larger_than_the_whole_table_must_empty_it_and_still_be_decoded()
    {
        var decoder = new HpackDecoder(maxHeaderListSize: 64 * 1024, maxTableSize: 64);
        Decode(decoder, "4001 6101 62");
        AssertTable(decoder, 34, ("a", "b"));

        // 1 + 32 bytes of value + 32 of overhead: 65, one more than the table.
        Assert.Equal([new("c", new string('x', 32))], Decode(decoder, "4001 6320" + Convert.ToHexString(new byte[32].Select(_ => (byte)'x').ToArray())));
        AssertTable(decoder, 0);
    }

    [Fact]
    public void A_size_update_at_the_start_of_a_block_must_evict_down_to_the_new_size()
    {
        var decoder = new HpackDecoder();
        Decode(decoder, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d");

        Assert.Equal([new(":method", "GET")], Decode(decoder, "20 3fe1 1f 82"));   // to 0, then to 4096: both before the first field
        AssertTable(decoder, 0);
        Assert.Equal(4096, decoder.Table.MaxSize);
    }

    [Fact]
    public void Names_must_keep_their_case_and_bytes_must_be_read_as_Latin_1()
    {
        Assert.Equal([new("X-Key", "caf\u00e9")], Decode(new HpackDecoder(), "0005 582d 4b65 7904 6361 66e9"));
    }

    [Theory]
    [InlineData(0, 0x1ff8u, 13)]
    [InlineData(10, 0x3ffffffcu, 30)]
    [InlineData(' ', 0x14u, 6)]
    [InlineData('0', 0x0u, 5)]
    [InlineData(':', 0x5cu, 7)]
    [InlineData('\\', 0x7fff0u, 19)]
    [InlineData('a', 0x3u, 5)]
    [InlineData('~', 0x1ffdu, 13)]
    [InlineData(127, 0xffffffcu, 28)]
    [InlineData(128, 0xfffe6u, 20)]
    [InlineData(199, 0x1ffffecu, 25)]
    [InlineData(203, 0x7ffffdeu, 27)]
    [InlineData(255, 0x3ffffeeu, 26)]
    [InlineData(HpackHuffman.EndOfString, 0x3fffffffu, 30)]
    public void Huffman_codes_derived_from_the_lengths_must_equal_those_RFC_7541_Appendix_B_prints(int symbol, uint code, int length)
    {
        Assert.Equal((code, length), HpackHuffman.CodeOf(symbol));
    }

    [Fact]
    public void Huffman_code_lengths_must_satisfy_Kraft_s_equality()
    {
        // A complete prefix code: the sum of 2^-length over the 257 symbols is exactly 1, here scaled by 2^30.
        var lengths = HpackHuffman.CodeLengths;
        Assert.Equal(HpackHuffman.EndOfString + 1, lengths.Length);
        var sum = 0L;
        foreach (var length in lengths)
        {
            sum += 1L << (HpackHuffman.MaxCodeLength - length);
        }

        Assert.Equal(1L << HpackHuffman.MaxCodeLength, sum);
    }

    [Fact]
    public void Every_symbol_must_decode_from_its_code_alone_and_all_of_them_in_a_row()
    {
        var all = new byte[256];
        for (var symbol = 0; symbol < 256; symbol++)
        {
            all[symbol] = (byte)symbol;
            Assert.Equal([(byte)symbol], HuffmanDecode(HuffmanEncode([(byte)symbol])));
        }

        Assert.Equal(all, HuffmanDecode(HuffmanEncode(all)));
        Assert.Empty(HuffmanDecode([]));
    }

    [Theory]
    [InlineData("80", "index 0")]
    [InlineData("be", "index beyond the tables")]
    [InlineData("7e01 61", "a name index beyond the tables")]
    [InlineData("400a 6375 7374", "a string running past the block")]
    [InlineData("04", "a block ending before a string")]
    [InlineData("ff", "a block ending inside an integer")]
    [InlineData("ff 80", "a block ending inside an integer's continuation")]
    [InlineData("ff ffff ffff 0f", "an integer above 31 bits")]
    [InlineData("ff 8080 8080 8000", "an integer with redundant zero groups")]
    [InlineData("0001 6184 ffff ffff", "a Huffman string holding the end-of-string code")]
    [InlineData("0001 6182 1fff", "Huffman padding of 11 bits")]
    [InlineData("0001 6181 ff", "Huffman padding of 8 bits")]
    [InlineData("0001 6181 18", "Huffman padding that is not all ones")]
    [InlineData("3fe2 1f", "a size update to 4097 bytes")]
    [InlineData("82 20", "a size update after a field")]
    public void A_malformed_block_must_be_refused(string hex, string because)
    {
        var decoder = new HpackDecoder();

        Assert.True(Throws(decoder, hex), because);
    }

    [Fact]
    public void A_block_decoding_to_more_than_the_header_list_size_must_be_refused()
    {
        // ":method: GET" counts 7 + 3 + 32 = 42.
        var decoder = new HpackDecoder(maxHeaderListSize: 84);

        Assert.Equal(2, Decode(decoder, "8282").Count);
        Assert.True(Throws(decoder, "828282"));
    }

    [Fact]
    public void Encoder_output_must_round_trip_through_the_decoder_without_touching_its_table()
    {
        var output = new ArrayBufferWriter<byte>();
        var longValue = new string('v', 300);   // a length that takes continuation bytes

        HpackEncoder.WriteIndexed(3, output);
        HpackEncoder.WriteIndexed(7, output);
        HpackEncoder.WriteLiteral(4, "/channel", output);
        HpackEncoder.WriteLiteral(1, "127.0.0.1:5000", output);
        HpackEncoder.WriteLiteral("x-service-name", "pricing\tdesk", output);
        HpackEncoder.WriteLiteral("x-long", longValue, output);
        HpackEncoder.WriteLiteral("x-empty", "", output);
        var decoder = new HpackDecoder();
        var headers = new List<KeyValuePair<string, string>>();
        decoder.Decode(output.WrittenSpan, headers);

        Assert.Equal(
            Fields((":method", "POST"), (":scheme", "https"), (":path", "/channel"), (":authority", "127.0.0.1:5000"),
                ("x-service-name", "pricing\tdesk"), ("x-long", longValue), ("x-empty", "")),
            headers);
        AssertTable(decoder, 0);
    }

    [Fact]
    public void Encoder_must_write_the_RFC_s_bytes_for_an_indexed_field_and_a_literal_with_an_indexed_name()
    {
        var output = new ArrayBufferWriter<byte>();

        HpackEncoder.WriteIndexed(2, output);
        HpackEncoder.WriteLiteral(4, "/sample/path", output);

        Assert.Equal("82" + "040c2f73616d706c652f70617468", Convert.ToHexStringLower(output.WrittenSpan));
    }

    [Theory]
    [InlineData("x-name", "caf\u00e9")]
    [InlineData("x-name", "line\r\nbreak")]
    [InlineData("x-name", "nul\0")]
    [InlineData("x-name", "del\u007f")]
    [InlineData("x-n\u00e4me", "value")]
    [InlineData("X-Name", "value")]
    [InlineData("", "value")]
    public void Encoder_must_refuse_a_header_that_is_not_lower_case_printable_ASCII(string name, string value)
    {
        var output = new ArrayBufferWriter<byte>();

        var refused = Assert.Throws<ArgumentException>(() => HpackEncoder.WriteLiteral(name, value, output));
        Assert.Contains($"'{name}'", refused.Message);
        Assert.Equal(0, output.WrittenCount);
    }

    [Fact]
    public void Encoder_must_refuse_a_value_that_is_not_printable_ASCII_after_a_static_name_and_an_index_outside_the_table()
    {
        var output = new ArrayBufferWriter<byte>();

        var refused = Assert.Throws<ArgumentException>(() => HpackEncoder.WriteLiteral(1, "h\u00f6st", output));
        Assert.Contains("':authority'", refused.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => HpackEncoder.WriteIndexed(0, output));
        Assert.Throws<ArgumentOutOfRangeException>(() => HpackEncoder.WriteLiteral(62, "x", output));
        Assert.Equal(0, output.WrittenCount);
    }

    private static List<KeyValuePair<string, string>> Decode(HpackDecoder decoder, string hex)
    {
        var headers = new List<KeyValuePair<string, string>>();
        decoder.Decode(Hex(hex), headers);
        return headers;
    }

    private static bool Throws(HpackDecoder decoder, string hex)
    {
        try
        {
            Decode(decoder, hex);
            return false;
        }
        catch (HpackException)
        {
            return true;
        }
    }

    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", ""));

    private static KeyValuePair<string, string>[] Fields(params (string Name, string Value)[] fields) =>
        fields.Select(field => new KeyValuePair<string, string>(field.Name, field.Value)).ToArray();

    private static void AssertTable(HpackDecoder decoder, int size, params (string Name, string Value)[] newestFirst)
    {
        var table = decoder.Table;
        Assert.Equal(size, table.Size);
        Assert.Equal(Fields(newestFirst), Enumerable.Range(1, table.Count).Select(index => table[index]).ToArray());
    }

    /// <summary>Codes the bytes with the derived codes and pads with ones, as an encoder would.</summary>
    private static byte[] HuffmanEncode(byte[] text)
    {
        var bytes = new List<byte>();
        ulong bits = 0;
        var bitCount = 0;
        foreach (var symbol in text)
        {
            var (code, length) = HpackHuffman.CodeOf(symbol);
            bits = (bits << length) | code;
            bitCount += length;
            for (; bitCount >= 8; bitCount -= 8)
            {
                bytes.Add((byte)(bits >> (bitCount - 8)));
            }
        }

        if (bitCount > 0)
        {
            bytes.Add((byte)((bits << (8 - bitCount)) | (0xffUL >> bitCount)));
        }

        return bytes.ToArray();
    }

    private static byte[] HuffmanDecode(byte[] encoded)
    {
        var decoded = new byte[HpackHuffman.MaxDecodedLength(encoded.Length)];
        return decoded[..HpackHuffman.Decode(encoded, decoded)];
    }
}
