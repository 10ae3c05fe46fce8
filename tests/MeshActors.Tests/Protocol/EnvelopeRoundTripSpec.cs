using System.Text;
using MeshActors.Protocol;

namespace MeshActors.Tests.Protocol;

public sealed class EnvelopeRoundTripSpec
{
    private static readonly Dictionary<string, Envelope> Samples = new()
    {
        ["hello"] = new Envelope.Hello("0b6f4a52-3c2e-4d8a-9f61-2a7c9e1d5b30", "pricing") { Capabilities = ["bin", "future"], MaxFrameSize = 1 << 20 },
        ["pub"] = new Envelope.Pub("prices", Json("{\"sym\":\"ABC\",\"px\":101.5}")),
        ["pub with attachment"] = new Envelope.Pub("images", Json("{\"name\":\"dot.png\"}")) { Attachment = new byte[] { 0x89, 0x50, 0x4e, 0x47 } },
        ["pub with string data"] = new Envelope.Pub("names", Json("\"Zoë\"")),
        ["pub with non-ASCII topic"] = new Envelope.Pub("prix/€", Json("[1,2,3]")),
        ["pub with trace"] = new Envelope.Pub("prices", Json("1")) { Trace = new("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01") },
        ["pub with trace state"] = new Envelope.Pub("prices", Json("1"))
        {
            Trace = new("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"),
        },
        ["req"] = new Envelope.Req(1, "quote", Json("{\"sym\":\"ABC\"}")),
        ["req with every option"] = new Envelope.Req((1L << 53) - 1, "quote", Json("null"))
        {
            Timeout = TimeSpan.FromSeconds(2), Idempotent = true, Attachment = new byte[] { 1, 2, 3 }, Trace = new("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", "vendor=opaque value"),
        },
        ["res"] = new Envelope.Res(1, Json("{\"px\":101.5}")),
        ["res with attachment"] = new Envelope.Res(7, Json("true")) { Attachment = new byte[300] },
        ["err answering a request"] = new Envelope.Err(ErrorCodes.HandlerError, "no quote for XYZ") { Id = 2, ExceptionType = "System.Collections.Generic.KeyNotFoundException" },
        ["err about a frame"] = new Envelope.Err(ErrorCodes.UnknownType, "Unknown frame type 'frob'."),
        ["cancel"] = new Envelope.Cancel(3),
        ["interest"] = new Envelope.Interest(4, ["prices", "images"], ["quote"]),
        ["empty interest"] = new Envelope.Interest(5, [], []),
        ["ping"] = new Envelope.Ping(0),
        ["pong"] = new Envelope.Pong((1L << 53) - 1),
        ["bye"] = new Envelope.Bye(Envelope.Bye.Shutdown),
        ["raw"] = new Envelope.Raw(Json("{\"message\":\"Message from Node #0\"}")),
    };

    public static TheoryData<string> Names => [.. Samples.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public void Every_envelope_must_come_back_as_it_was_sent(string name)
    {
        var envelope = Samples[name];
        var decoded = Wire.Decode(Wire.Encode(envelope));

        Assert.True(decoded.Count == 1, name);
        Assert.Equal(Wire.Describe(envelope), Wire.Describe(decoded[0]));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Every_envelope_must_decode_the_same_however_its_frames_are_split(string name)
    {
        var envelope = Samples[name];
        var bytes = Wire.Encode(envelope);
        var expected = Wire.Describe(envelope);

        for (var cut = 0; cut <= bytes.Length; cut++)
        {
            var decoded = Wire.Decode(Segments.Split(bytes, cut));
            Assert.True(expected == Wire.Describe(decoded.Single()), $"{name}, cut at {cut}");
        }

        Assert.Equal(expected, Wire.Describe(Wire.Decode(Segments.OneBytePerSegment(bytes)).Single()));
    }

    [Fact]
    public void Absent_data_must_decode_as_json_null()
    {
        var pub = Assert.IsType<Envelope.Pub>(Decode("{\"t\":\"pub\",\"topic\":\"a\"}"));
        var res = Assert.IsType<Envelope.Res>(Decode("{\"t\":\"res\",\"id\":1}"));

        Assert.Equal("null", Wire.Text(pub.Data));
        Assert.Equal("null", Wire.Text(res.Data));
    }

    [Fact]
    public void Data_must_be_kept_as_the_exact_json_text_the_peer_sent()
    {
        var pub = Assert.IsType<Envelope.Pub>(Decode("{ \"t\" : \"pub\" , \"data\" : { \"a\" : [ 1 , 2.50 ] , \"b\" : \"\\u00e9\" } , \"topic\" : \"x\" }"));

        Assert.Equal("{ \"a\" : [ 1 , 2.50 ] , \"b\" : \"\\u00e9\" }", Wire.Text(pub.Data));
    }

    [Fact]
    public void The_type_may_come_after_the_other_members()
    {
        var req = Assert.IsType<Envelope.Req>(Decode("{\"data\":[1],\"timeout_ms\":250,\"service\":\"calc\",\"idempotent\":true,\"id\":9,\"t\":\"req\"}"));

        Assert.Equal("req id=9 service=calc timeout=00:00:00.2500000 idem=True data=[1] att= trace=", Wire.Describe(req));
    }

    [Fact]
    public void Unknown_members_must_be_ignored_whatever_their_type()
    {
        var ping = Decode("{\"x\":{\"deep\":[{\"t\":\"pub\"}]},\"t\":\"ping\",\"topic\":5,\"id\":\"not a number\",\"n\":3,\"idempotent\":{\"n\":4},\"later\":null}");
        var hello = Decode("{\"t\":\"hello\",\"v\":1,\"node\":\"n\",\"name\":\"x\",\"topic\":[],\"zone\":\"eu\"}");

        Assert.Equal(new Envelope.Ping(3), ping);
        Assert.Equal("hello v=1 node=n name=x caps=[] max=16777216", Wire.Describe(hello!));
    }

    [Fact]
    public void A_repeated_member_must_take_its_last_value()
    {
        Assert.Equal(new Envelope.Pong(2), Decode("{\"t\":\"ping\",\"n\":\"bad\",\"n\":2,\"t\":\"pong\"}"));
    }

    [Fact]
    public void Escaped_names_and_values_must_decode()
    {
        var pub = Assert.IsType<Envelope.Pub>(Decode("{\"\\u0074\":\"p\\u0075b\",\"topic\":\"pri\\u0063es\"}"));

        Assert.Equal("prices", pub.Topic);
    }

    [Fact]
    public void Long_escaped_member_names_must_be_ignored_like_any_unknown_member()
    {
        var longName = string.Concat(Enumerable.Repeat("\\u0061", 40));

        Assert.Equal(new Envelope.Ping(1), Decode($"{{\"{longName}\":1,\"t\":\"ping\",\"n\":1}}"));
        Assert.Equal(ErrorCodes.UnknownType,
            Assert.Throws<MeshProtocolException>(() => Decode($"{{\"t\":\"{longName}\"}}")).Code);
    }

    [Fact]
    public void Non_ascii_text_must_be_written_as_utf8_not_escaped()
    {
        var text = Encoding.UTF8.GetString(Wire.Encode(new Envelope.Pub("prix/€", Json("1")))[4..]);

        Assert.Equal("{\"t\":\"pub\",\"topic\":\"prix/€\",\"data\":1}", text);
    }

    [Fact]
    public void A_repeated_topic_must_decode_to_the_same_string_instance()
    {
        var decoder = new EnvelopeDecoder();
        var bytes = Encoding.UTF8.GetBytes("{\"t\":\"pub\",\"topic\":\"prices\"}");

        var first = Assert.IsType<Envelope.Pub>(decoder.Decode(bytes.AsSpan()));
        var second = Assert.IsType<Envelope.Pub>(decoder.Decode(bytes.AsSpan()));

        Assert.Same(first.Topic, second.Topic);
    }

    [Fact]
    public void A_request_timeout_must_travel_in_whole_milliseconds_rounded_up()
    {
        var sent = new Envelope.Req(1, "s", Json("1")) { Timeout = TimeSpan.FromTicks(1) };

        var received = Assert.IsType<Envelope.Req>(Wire.Decode(Wire.Encode(sent)).Single());

        Assert.Equal(TimeSpan.FromMilliseconds(1), received.Timeout);
    }

    private static Envelope? Decode(string json) => new EnvelopeDecoder().Decode(Encoding.UTF8.GetBytes(json).AsSpan());

    private static byte[] Json(string json) => Encoding.UTF8.GetBytes(json);
}
