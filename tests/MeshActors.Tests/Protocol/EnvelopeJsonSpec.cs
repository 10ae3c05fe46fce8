using System.Text;
using MeshActors.Protocol;

namespace MeshActors.Tests.Protocol;

/// <summary>The JSON rules of docs/protocol.md 4.1 as the decoder applies them to a whole payload, <c>data</c> included.</summary>
public sealed class EnvelopeJsonSpec
{
    private const string Ping = "{\"t\":\"ping\",\"n\":1,";

    [Theory]
    [InlineData("{\"s\":\"tab\\tquote\\\" backslash\\\\ slash\\/ \\b\\f\\n\\r\"}")]
    [InlineData("\"\\u00e9\\u00E9\\ud83d\\ude00\"")]
    [InlineData("\"\\ud800 lone surrogates \\udfff\"")]
    [InlineData("[1e400,-1e-400,1E+2,-0,0.5,-0.0e0,123456789012345678901234567890]")]
    [InlineData("[true,false,null,{},[],\"\",{\"\":[{}]}]")]
    [InlineData(" { \"a\" :\t[ 1 ,\r\n2 ] } ")]
    [InlineData("\"Zoë € 😀 \u007f\"")]
    [InlineData("\"a string longer than a few words, with \\\"escapes\\\" and \\u00e9 far into it\"")]
    public void Any_valid_json_must_be_accepted_as_data_and_kept_as_sent(string data)
    {
        var pub = Assert.IsType<Envelope.Pub>(Decode($"{{\"t\":\"pub\",\"topic\":\"a\",\"data\":{data}}}"));

        Assert.Equal(data.Trim(), Wire.Text(pub.Data));
    }

    [Theory]
    [InlineData("01")]
    [InlineData("-")]
    [InlineData("1.")]
    [InlineData(".5")]
    [InlineData("+1")]
    [InlineData("1e")]
    [InlineData("1e+")]
    [InlineData("-01")]
    [InlineData("NaN")]
    [InlineData("tru")]
    [InlineData("nul")]
    [InlineData("True")]
    [InlineData("\"\\x\"")]
    [InlineData("\"\\u12G4\"")]
    [InlineData("\"\\u12\"")]
    [InlineData("\"tab\tinside\"")]
    [InlineData("\"a string longer than a few words, then a\ttab\"")]
    [InlineData("\"a string longer than a few words, then a bad \\escape\"")]
    [InlineData("\"unterminated")]
    [InlineData("[1,]")]
    [InlineData("{\"a\":1,}")]
    [InlineData("{\"a\" 1}")]
    [InlineData("{a:1}")]
    [InlineData("[1 2]")]
    [InlineData("{\"a\":[}")]
    [InlineData("1 2")]
    public void Invalid_json_inside_data_must_fail_with_bad_json(string data)
    {
        AssertBadJson($"{{\"t\":\"pub\",\"topic\":\"a\",\"data\":{data}}}");
    }

    [Fact]
    public void Invalid_utf8_inside_data_must_fail_with_bad_json()
    {
        byte[] truncated = [.. "{\"t\":\"pub\",\"topic\":\"a\",\"data\":\"caf"u8, 0xc3, .. "\"}"u8];
        byte[] surrogate = [.. "{\"t\":\"pub\",\"topic\":\"a\",\"data\":\""u8, 0xed, 0xa0, 0x80, .. "\"}"u8];
        byte[] outsideString = [.. "{\"t\":\"pub\",\"topic\":\"a\",\"data\":"u8, 0xc3, 0xa9, .. "}"u8];

        AssertBadJson(truncated);
        AssertBadJson(surrogate);
        AssertBadJson(outsideString);
    }

    [Fact]
    public void Nesting_must_be_limited_to_65_levels_the_envelope_included()
    {
        // A value as deep as System.Text.Json writes by default (64), in its envelope.
        var deepest = $"{Ping}\"x\":{new string('[', 64)}{new string(']', 64)}}}";
        var tooDeep = $"{Ping}\"x\":{{\"y\":{new string('[', 64)}{new string(']', 64)}}}}}";

        Assert.Equal(new Envelope.Ping(1), Decode(deepest));
        AssertBadJson(tooDeep);
        AssertBadJson($"{Ping}\"x\":{string.Concat(Enumerable.Repeat("{\"a\":", 65))}1{new string('}', 65)}}}");
    }

    [Fact]
    public void Nesting_much_deeper_than_the_limit_must_fail_with_bad_json_not_overflow_the_stack()
    {
        AssertBadJson($"{Ping}\"x\":{new string('[', 100_000)}{new string(']', 100_000)}}}");
    }

    [Theory]
    [InlineData("-0", 0)]
    [InlineData("9007199254740991", 9007199254740991)]
    public void An_integer_field_must_accept_any_json_integer_in_range(string n, long expected)
    {
        Assert.Equal(new Envelope.Ping(expected), Decode($"{{\"t\":\"ping\",\"n\":{n}}}"));
    }

    [Theory]
    [InlineData("1.0")]
    [InlineData("1E0")]
    [InlineData("1e400")]
    [InlineData("-1")]
    [InlineData("9007199254740992")]
    [InlineData("99999999999999999999")]
    [InlineData("-99999999999999999999")]
    public void An_integer_field_must_reject_a_fraction_an_exponent_or_a_value_out_of_range(string n)
    {
        var error = Assert.Throws<MeshProtocolException>(() => Decode($"{{\"t\":\"ping\",\"n\":{n}}}"));

        Assert.Equal("In a 'ping' frame, 'n' as an integer from 0 to 2^53-1.", error.Message);
    }

    [Fact]
    public void An_integer_with_a_leading_zero_must_fail_with_bad_json()
    {
        AssertBadJson("{\"t\":\"ping\",\"n\":01}");
    }

    [Fact]
    public void The_version_of_a_hello_may_be_negative()
    {
        var error = Assert.Throws<MeshProtocolException>(() => Decode("{\"t\":\"hello\",\"v\":-2147483648,\"node\":\"n\",\"name\":\"x\"}"));

        Assert.Equal(ErrorCodes.UnsupportedVersion, error.Code);
    }

    [Theory]
    [InlineData("{\"t\":\"ping\",\"n\":1}\uFEFF")]
    [InlineData("\uFEFF{\"t\":\"ping\",\"n\":1}")]
    [InlineData("{\"t\":\"ping\",\"n\":1}\u00a0")]
    [InlineData("{\"t\":\"ping\",\"n\":1}\0")]
    [InlineData("{\"t\":\"ping\",\"n\":1}}")]
    [InlineData("{\"t\":\"ping\",\"n\":1,}")]
    [InlineData("{\"t\":\"ping\" \"n\":1}")]
    [InlineData("{\"t\":\"ping\",\"n\":1")]
    [InlineData("{\"t\":\"ping\",\"n\"")]
    [InlineData("{\"t\":\"pi\nng\",\"n\":1}")]
    public void Anything_around_or_between_members_but_json_whitespace_must_fail_with_bad_json(string json)
    {
        AssertBadJson(json);
    }

    [Fact]
    public void Json_whitespace_around_and_between_members_must_be_ignored()
    {
        Assert.Equal(new Envelope.Ping(1), Decode(" \t\r\n{ \"t\" :\n\"ping\" ,\t\"n\"\r: 1 } \n"));
    }

    [Fact]
    public void Escapes_in_member_names_and_hot_values_must_read_as_their_text()
    {
        var req = Assert.IsType<Envelope.Req>(Decode(
            "{\"\\u0074\":\"r\\u0065q\",\"i\\u0064\":1,\"servic\\u0065\":\"qu\\/ote\",\"d\\u0061ta\":[1],\"idempotent\":true}"));

        Assert.Equal("req id=1 service=qu/ote timeout= idem=True data=[1] att= trace=", Wire.Describe(req));
    }

    [Fact]
    public void An_escaped_member_name_must_still_take_part_in_last_one_wins()
    {
        Assert.Equal(new Envelope.Ping(2), Decode("{\"t\":\"ping\",\"n\":1,\"\\u006e\":2}"));
        Assert.Equal(new Envelope.Ping(3), Decode("{\"t\":\"ping\",\"\\u006e\":2,\"n\":3}"));
    }

    [Fact]
    public void A_repeated_data_member_must_keep_only_its_last_value()
    {
        var pub = Assert.IsType<Envelope.Pub>(Decode("{\"t\":\"pub\",\"data\":{\"first\":1},\"topic\":\"a\",\"data\":[2]}"));

        Assert.Equal("[2]", Wire.Text(pub.Data));
    }

    [Fact]
    public void An_unknown_type_must_be_named_as_the_peer_wrote_it()
    {
        var error = Assert.Throws<MeshProtocolException>(() => Decode("{\"t\":\"fr\\u00f6b €\"}"));

        Assert.Equal("Unknown frame type 'fröb €'.", error.Message);
    }

    [Fact]
    public void An_object_without_a_type_must_be_a_raw_message_even_when_it_has_hot_members()
    {
        const string json = "{\"topic\":\"a\",\"data\":{\"t\":\"pub\"},\"id\":1}";

        Assert.Equal(json, Wire.Text(Assert.IsType<Envelope.Raw>(Decode(json)).Json));
    }

    [Fact]
    public void A_member_name_escaping_a_lone_surrogate_must_name_nothing()
    {
        Assert.Equal(new Envelope.Ping(1), Decode("{\"\\ud800\":1,\"t\":\"ping\",\"n\":1}"));
    }

    [Fact]
    public void A_topic_escaping_a_lone_surrogate_must_be_a_bad_envelope_that_still_takes_its_attachment()
    {
        var decoder = new EnvelopeDecoder();

        var error = Assert.Throws<MeshProtocolException>(() => decoder.Decode("{\"t\":\"pub\",\"topic\":\"\\udc00\",\"bin\":1}"u8));

        Assert.Equal(ErrorCodes.BadEnvelope, error.Code);
        Assert.True(decoder.AwaitsAttachment);
    }

    [Fact]
    public void A_type_escaping_a_lone_surrogate_must_be_an_unknown_type_named_as_written()
    {
        var error = Assert.Throws<MeshProtocolException>(() => Decode("{\"t\":\"x\\ud800\"}"));

        Assert.Equal(ErrorCodes.UnknownType, error.Code);
        Assert.Equal("Unknown frame type 'x\\ud800'.", error.Message);
    }

    private static Envelope? Decode(string json) => new EnvelopeDecoder().Decode(Encoding.UTF8.GetBytes(json).AsSpan());

    private static void AssertBadJson(string json) => AssertBadJson(Encoding.UTF8.GetBytes(json));

    private static void AssertBadJson(byte[] payload)
    {
        var error = Assert.Throws<MeshProtocolException>(() => new EnvelopeDecoder().Decode(payload.AsSpan()));

        Assert.Equal(ErrorCodes.BadJson, error.Code);
    }
}
