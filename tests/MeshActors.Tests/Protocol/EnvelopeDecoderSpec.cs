using System.Buffers;
using System.Text;
using MeshActors.Protocol;

namespace MeshActors.Tests.Protocol;

public sealed class EnvelopeDecoderSpec
{
    private readonly EnvelopeDecoder _decoder = new();

    [Theory]
    [InlineData("{\"message\":\"Message from Node #0\"}")]
    [InlineData("{\"message\":\"Message from Python #12\",\"type\":\"greeting\"}")]
    [InlineData("[1,2,3]")]
    [InlineData("\"just a string\"")]
    [InlineData("42")]
    [InlineData("null")]
    public void A_frame_without_a_type_must_decode_as_a_raw_message(string json)
    {
        var raw = Assert.IsType<Envelope.Raw>(Decode(json));

        Assert.Equal(json, Wire.Text(raw.Json));
        Assert.Equal("", raw.Type);
    }

    [Fact]
    public void A_plain_channel_must_deliver_every_frame_as_a_raw_message()
    {
        const string json = "{\"t\":\"pub\",\"topic\":\"looks typed\"}";

        var raw = EnvelopeDecoder.DecodeRaw(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json)));

        Assert.Equal(json, Wire.Text(raw!.Json));
        Assert.Null(EnvelopeDecoder.DecodeRaw(ReadOnlySequence<byte>.Empty));
        Assert.Equal(ErrorCodes.BadJson, Assert.Throws<MeshProtocolException>(() =>
            EnvelopeDecoder.DecodeRaw(new ReadOnlySequence<byte>("{\"message\":"u8.ToArray()))).Code);
    }

    [Theory]
    [InlineData("\"trace\":17")]
    [InlineData("\"trace\":\"not a traceparent\"")]
    [InlineData("\"trace\":\"00-00000000000000000000000000000000-b7ad6b7169203331-01\"")]
    [InlineData("\"trace\":\"00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333\\u0031-01\"")]
    public void A_trace_that_is_not_a_traceparent_must_be_ignored_and_the_message_kept(string trace)
    {
        var pub = Assert.IsType<Envelope.Pub>(Decode($"{{\"t\":\"pub\",\"topic\":\"a\",{trace},\"data\":1}}"));
        var req = Assert.IsType<Envelope.Req>(Decode($"{{\"t\":\"req\",\"id\":1,\"service\":\"s\",{trace}}}"));

        Assert.Equal(("a", null), (pub.Topic, pub.Trace));
        Assert.Equal(("s", null), (req.Service, req.Trace));
    }

    [Theory]
    [InlineData("\"tracestate\":17")]
    [InlineData("\"tracestate\":\"\"")]
    [InlineData("\"tracestate\":\"caf\\u00e9=1\"")]
    [InlineData("\"tracestate\":\"café=1\"")]
    [InlineData("\"tracestate\":\"k=\u007f\"")]
    public void A_tracestate_that_is_not_printable_ASCII_must_be_ignored_and_the_traceparent_kept(string tracestate)
    {
        const string Parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        var pub = Assert.IsType<Envelope.Pub>(Decode($"{{\"t\":\"pub\",\"topic\":\"a\",\"trace\":\"{Parent}\",{tracestate},\"data\":1}}"));
        var req = Assert.IsType<Envelope.Req>(Decode($"{{\"t\":\"req\",\"id\":1,\"service\":\"s\",{tracestate},\"trace\":\"{Parent}\"}}"));

        Assert.Equal(new TraceContext(Parent), pub.Trace);
        Assert.Equal(new TraceContext(Parent), req.Trace);
    }

    [Fact]
    public void A_tracestate_longer_than_512_characters_must_be_ignored()
    {
        const string Parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        var longest = "k=" + new string('v', 510);

        Assert.Equal(new TraceContext(Parent, longest), Pub(longest).Trace);
        Assert.Equal(new TraceContext(Parent), Pub(longest + "v").Trace);

        Envelope.Pub Pub(string state) =>
            Assert.IsType<Envelope.Pub>(Decode($"{{\"t\":\"pub\",\"topic\":\"a\",\"trace\":\"{Parent}\",\"tracestate\":\"{state}\",\"data\":1}}"));
    }

    [Fact]
    public void A_tracestate_without_a_traceparent_must_be_ignored()
    {
        var pub = Assert.IsType<Envelope.Pub>(Decode("{\"t\":\"pub\",\"topic\":\"a\",\"tracestate\":\"k=v\",\"data\":1}"));

        Assert.Null(pub.Trace);
    }

    [Fact]
    public void An_empty_frame_must_be_ignored()
    {
        Assert.Null(_decoder.Decode(ReadOnlySpan<byte>.Empty));
        Assert.Null(_decoder.Decode(ReadOnlySequence<byte>.Empty));
    }

    [Fact]
    public void An_unknown_type_must_fail_with_unknown_type_and_leave_the_decoder_usable()
    {
        var error = Assert.Throws<MeshProtocolException>(() => Decode("{\"t\":\"frob\",\"n\":1}"));

        Assert.Equal(ErrorCodes.UnknownType, error.Code);
        Assert.Equal("Unknown frame type 'frob'.", error.Message);
        Assert.False(error.ClosesChannel);
        Assert.Equal(new Envelope.Ping(1), Decode("{\"t\":\"ping\",\"n\":1}"));
    }

    [Theory]
    [InlineData("{\"t\":\"pub\"")]
    [InlineData("{\"t\":\"pub\",}")]
    [InlineData("{'t':'pub'}")]
    [InlineData("not json")]
    [InlineData("{\"t\":\"ping\",\"n\":1}x")]
    [InlineData("{\"t\":\"ping\",\"n\":1} {}")]
    [InlineData("{\"t\":\"ping\",\"n\":1} // comment")]
    [InlineData("{\"t\":\"pub\",\"topic\":\"a\",\"data\":{\"a\":}}")]
    [InlineData("   ")]
    public void Invalid_json_must_fail_with_bad_json_and_leave_the_decoder_usable(string json)
    {
        var error = Assert.Throws<MeshProtocolException>(() => Decode(json));

        Assert.Equal(ErrorCodes.BadJson, error.Code);
        Assert.False(error.ClosesChannel);
        Assert.Equal(new Envelope.Ping(1), Decode("{\"t\":\"ping\",\"n\":1}"));
    }

    [Fact]
    public void Invalid_utf8_must_fail_with_bad_json()
    {
        byte[] payload = [.. "{\"t\":\"pub\",\"topic\":\""u8, 0xc3, 0x28, .. "\"}"u8];

        Assert.Equal(ErrorCodes.BadJson, Assert.Throws<MeshProtocolException>(() => _decoder.Decode(payload.AsSpan())).Code);
    }

    [Theory]
    [InlineData("{\"t\":5}")]
    [InlineData("{\"t\":null}")]
    [InlineData("{\"t\":{}}")]
    [InlineData("{\"t\":[\"ping\"],\"n\":1}")]
    [InlineData("{\"t\":{\"t\":\"ping\",\"n\":1}}")]
    [InlineData("{\"t\":\"pub\"}")]
    [InlineData("{\"t\":\"pub\",\"topic\":5}")]
    [InlineData("{\"t\":\"pub\",\"topic\":null,\"data\":1}")]
    [InlineData("{\"t\":\"pub\",\"topic\":\"a\",\"topic\":null,\"data\":1}")]
    [InlineData("{\"t\":\"pub\",\"topic\":\"\"}")]
    [InlineData("{\"t\":\"pub\",\"topic\":\"a\",\"bin\":-1}")]
    [InlineData("{\"t\":\"pub\",\"topic\":\"a\",\"bin\":\"8\"}")]
    [InlineData("{\"t\":\"req\",\"service\":\"s\"}")]
    [InlineData("{\"t\":\"req\",\"id\":1}")]
    [InlineData("{\"t\":\"req\",\"id\":\"1\",\"service\":\"s\"}")]
    [InlineData("{\"t\":\"req\",\"id\":null,\"service\":\"s\"}")]
    [InlineData("{\"t\":\"req\",\"id\":0,\"service\":\"s\"}")]
    [InlineData("{\"t\":\"req\",\"id\":1.5,\"service\":\"s\"}")]
    [InlineData("{\"t\":\"req\",\"id\":1e3,\"service\":\"s\"}")]
    [InlineData("{\"t\":\"req\",\"id\":9007199254740992,\"service\":\"s\"}")]
    [InlineData("{\"t\":\"req\",\"id\":1,\"service\":\"s\",\"timeout_ms\":0}")]
    [InlineData("{\"t\":\"req\",\"id\":1,\"service\":\"s\",\"timeout_ms\":2147483648}")]
    [InlineData("{\"t\":\"req\",\"id\":1,\"service\":\"s\",\"idempotent\":\"yes\"}")]
    [InlineData("{\"t\":\"req\",\"id\":1,\"service\":\"s\",\"idempotent\":[true]}")]
    [InlineData("{\"t\":\"res\"}")]
    [InlineData("{\"t\":\"res\",\"id\":-4}")]
    [InlineData("{\"t\":\"cancel\"}")]
    [InlineData("{\"t\":\"ping\"}")]
    [InlineData("{\"t\":\"ping\",\"n\":-1}")]
    [InlineData("{\"t\":\"pong\",\"n\":\"1\"}")]
    [InlineData("{\"t\":\"err\",\"msg\":\"x\"}")]
    [InlineData("{\"t\":\"err\",\"code\":5,\"msg\":\"x\"}")]
    [InlineData("{\"t\":\"err\",\"code\":\"x\",\"msg\":null}")]
    [InlineData("{\"t\":\"err\",\"code\":\"x\",\"msg\":\"y\",\"id\":\"1\"}")]
    [InlineData("{\"t\":\"err\",\"code\":\"x\",\"msg\":\"y\",\"id\":0}")]
    [InlineData("{\"t\":\"interest\",\"topics\":[],\"services\":[]}")]
    [InlineData("{\"t\":\"interest\",\"ver\":0,\"topics\":[],\"services\":[]}")]
    [InlineData("{\"t\":\"interest\",\"ver\":1,\"topics\":\"a\",\"services\":[]}")]
    [InlineData("{\"t\":\"interest\",\"ver\":1,\"topics\":[null],\"services\":[]}")]
    [InlineData("{\"t\":\"interest\",\"ver\":1,\"topics\":[]}")]
    [InlineData("{\"t\":\"bye\"}")]
    [InlineData("{\"t\":\"bye\",\"reason\":7}")]
    public void A_missing_or_mistyped_field_must_fail_with_bad_envelope_and_leave_the_decoder_usable(string json)
    {
        var error = Assert.Throws<MeshProtocolException>(() => Decode(json));

        Assert.Equal(ErrorCodes.BadEnvelope, error.Code);
        Assert.False(error.ClosesChannel);
        Assert.Equal(new Envelope.Ping(1), Decode("{\"t\":\"ping\",\"n\":1}"));
    }

    [Theory]
    [InlineData("{\"t\":\"req\",\"id\":1,\"service\":\"s\",\"timeout_ms\":null,\"idempotent\":null,\"bin\":null,\"data\":2}")]
    [InlineData("{\"t\":\"req\",\"id\":1,\"service\":\"s\",\"timeout_ms\":500,\"idempotent\":true,\"bin\":4,\"timeout_ms\":null,\"idempotent\":null,\"bin\":null,\"data\":2}")]
    [InlineData("{\"t\":\"req\",\"id\":1,\"service\":\"s\",\"timeout\\u005fms\":null,\"idempotent\":null,\"bin\":null,\"data\":2}")] // an escaped name: the reader's path
    public void A_member_set_to_null_must_count_as_absent(string json)
    {
        // What Python's json.dumps writes for None and JavaScript's JSON.stringify for null.
        var req = Assert.IsType<Envelope.Req>(Decode(json)); // null if a "bin" still announced an attachment

        Assert.Equal((1L, "s", "2"), (req.Id, req.Service, Encoding.UTF8.GetString(req.Data.Span)));
        Assert.Null(req.Timeout);
        Assert.False(req.Idempotent);
        Assert.Equal(new Envelope.Ping(1), Decode("{\"t\":\"ping\",\"n\":1}"));
    }

    [Fact]
    public void A_hello_with_its_optional_members_set_to_null_must_take_their_defaults()
    {
        var hello = Assert.IsType<Envelope.Hello>(Decode("{\"t\":\"hello\",\"v\":1,\"node\":\"n\",\"name\":\"x\",\"caps\":null,\"max_frame\":null}"));

        Assert.Equal(("n", "x", 1), (hello.NodeId, hello.Name, hello.Version));
        Assert.Empty(hello.Capabilities);
        Assert.Equal(ProtocolOptions.DefaultMaxFrameSize, hello.MaxFrameSize);
    }

    [Theory]
    [InlineData("{\"t\":\"hello\",\"name\":\"x\",\"node\":\"n\"}")]
    [InlineData("{\"t\":\"hello\",\"v\":\"1\",\"name\":\"x\",\"node\":\"n\"}")]
    [InlineData("{\"t\":\"hello\",\"v\":1,\"name\":\"x\"}")]
    [InlineData("{\"t\":\"hello\",\"v\":1,\"name\":\"\",\"node\":\"n\"}")]
    [InlineData("{\"t\":\"hello\",\"v\":1,\"name\":\"x\",\"node\":\"n\",\"caps\":[1]}")]
    [InlineData("{\"t\":\"hello\",\"v\":1,\"name\":\"x\",\"node\":\"n\",\"max_frame\":1024}")]
    public void A_bad_hello_must_fail_with_bad_envelope(string json)
    {
        Assert.Equal(ErrorCodes.BadEnvelope, Assert.Throws<MeshProtocolException>(() => Decode(json)).Code);
    }

    [Fact]
    public void A_hello_with_another_version_must_fail_with_unsupported_version_and_close_the_channel()
    {
        // Only t, v, node and name are frozen across versions: a version-2 hello may lack everything else.
        var error = Assert.Throws<MeshProtocolException>(() => Decode("{\"t\":\"hello\",\"v\":2,\"node\":\"n\",\"name\":\"x\",\"max_frame\":\"big\"}"));

        Assert.Equal(ErrorCodes.UnsupportedVersion, error.Code);
        Assert.Contains("version 2", error.Message);
        Assert.True(error.ClosesChannel);
    }

    [Fact]
    public void A_bad_request_must_name_its_id_so_that_the_answer_fails_it_at_once()
    {
        var error = Assert.Throws<MeshProtocolException>(() => Decode("{\"t\":\"req\",\"id\":17,\"service\":5}"));

        Assert.Equal(17, error.RequestId);
        Assert.Equal("In a 'req' frame, 'service' as a non-empty string.", error.Message);
        Assert.Equal(new Envelope.Err(ErrorCodes.BadEnvelope, error.Message) { Id = 17 }, Envelope.Err.From(error));
    }

    [Fact]
    public void An_error_must_say_which_field_is_wrong()
    {
        Assert.Equal("A 'pub' frame needs 'topic' as a non-empty string.",
            Assert.Throws<MeshProtocolException>(() => Decode("{\"t\":\"pub\"}")).Message);
        Assert.Equal("In a 'ping' frame, 'n' as an integer from 0 to 2^53-1.",
            Assert.Throws<MeshProtocolException>(() => Decode("{\"t\":\"ping\",\"n\":true}")).Message);
    }

    private Envelope? Decode(string json) => _decoder.Decode(Encoding.UTF8.GetBytes(json).AsSpan());
}
