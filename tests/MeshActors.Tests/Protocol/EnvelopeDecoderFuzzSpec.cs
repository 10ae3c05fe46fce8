using System.Buffers;
using System.Text;
using System.Text.Json;
using MeshActors.Protocol;

namespace MeshActors.Tests.Protocol;

/// <summary>
/// Whatever a peer sends, the decoder delivers an envelope or refuses the frame with a <see cref="MeshProtocolException"/>
/// (docs/protocol.md, section 9), and refuses it as <c>bad_json</c> exactly when it is not UTF-8 JSON: its own JSON
/// cursor must agree with <see cref="Utf8JsonReader"/> on every input. A plain channel delivers the same frame as a raw
/// message or refuses it as <c>bad_json</c>.
/// </summary>
public sealed class EnvelopeDecoderFuzzSpec
{
    /// <summary>What an input that went wrong was, for the failure message.</summary>
    private const string Wrong = "not decoded nor refused as docs/protocol.md section 9 says";

    private const string Parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    // One valid encoding of every frame type, with every optional field somewhere.
    private static readonly byte[][] Seeds = new Envelope[]
    {
        new Envelope.Hello("0b6f4a52-3c2e-4d8a-9f61-2a7c9e1d5b30", "pricing", Capabilities: [WireProtocol.BinaryCapability]),
        new Envelope.Pub("prices", Utf8("{\"sym\":\"ABC\",\"px\":101.5}")),
        new Envelope.Pub("images", Utf8("{\"name\":\"dot.png\",\"tags\":[\"a\",{\"b\":null}]}")) { Attachment = new byte[8], Trace = new(Parent, "k=v") },
        new Envelope.Req(1, "quote", Utf8("{\"sym\":\"ABC\"}")) { Timeout = TimeSpan.FromSeconds(2), Idempotent = true, Trace = new(Parent) },
        new Envelope.Req(9007199254740991, "q", default) { Attachment = new byte[3] },
        new Envelope.Res(1, Utf8("{\"px\":101.5}")),
        new Envelope.Res(2, Utf8("[1,-2.5e3,true,false,null,\"\\u00e9\"]")) { Attachment = new byte[1] },
        new Envelope.Err(ErrorCodes.HandlerError, "no quote for XYZ") { Id = 2, ExceptionType = typeof(KeyNotFoundException).FullName },
        new Envelope.Err(ErrorCodes.UnknownType, "Unknown frame type 'frob'."),
        new Envelope.Cancel(3),
        new Envelope.Interest(1, ["prices", "$dict/stock"], ["quote"]),
        new Envelope.Ping(1),
        new Envelope.Pong(0),
        new Envelope.Bye(Envelope.Bye.Shutdown),
        new Envelope.Raw(Utf8("{\"message\":\"Message from Node #0\"}")),
    }.Select(Encode).ToArray();

    [Fact]
    public async Task Decoding_must_refuse_any_mutation_of_a_valid_envelope_with_a_protocol_error_and_nothing_else()
    {
        await Task.Run(() => Mutations.AssertEach(Mutations.Of(Seeds, seed: 20261204, count: 20_000), Outcome, Wrong)).WithTimeout();
    }

    [Fact]
    public async Task Decoding_must_refuse_every_truncation_and_every_misplaced_json_character_of_a_valid_envelope_with_a_protocol_error()
    {
        await Task.Run(() => Mutations.AssertEach(Seeds.Where(s => s.Length <= 128).SelectMany(Mutations.Exhaustive), Outcome, Wrong)).WithTimeout();
    }

    [Fact]
    public void Decoding_must_agree_with_the_json_reader_on_nesting_up_to_and_past_its_depth_limit()
    {
        var nested = Enumerable.Range(59, 10).SelectMany(depth => new[]
        {
            new string('[', depth) + new string(']', depth),
            string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth),
            string.Concat(Enumerable.Repeat("[{\"a\":", depth / 2)) + "1" + string.Concat(Enumerable.Repeat("}]", depth / 2)),
        });

        Mutations.AssertEach(nested.SelectMany(value => new[]
        {
            Utf8($"{{\"t\":\"pub\",\"topic\":\"a\",\"data\":{value}}}"),
            Utf8($"{{\"t\":\"ping\",\"extra\":{value},\"n\":1}}"),
            Utf8($"{{\"t\":\"hello\",\"v\":1,\"node\":\"n\",\"name\":\"x\",\"extra\":{value}}}"),
            Utf8(value),
        }), Outcome, Wrong);
    }

    [Fact]
    public void Every_seed_must_decode()
    {
        foreach (var seed in Seeds)
            Assert.True(Outcome(seed) is null, Mutations.Describe(seed));
    }

    // Null when the decoder did as it must with input; otherwise what it did instead.
    private static string? Outcome(byte[] input)
    {
        var decoder = new EnvelopeDecoder();
        try
        {
            decoder.Decode(input.AsSpan());
            if (input.Length > 0 && !IsUtf8Json(input))
                return "decoded although it is not UTF-8 JSON";
        }
        catch (MeshProtocolException e)
        {
            if ((e.Code == ErrorCodes.BadJson) != !IsUtf8Json(input))
                return $"refused with {e.Code} ({e.Message}) although it is {(IsUtf8Json(input) ? "" : "not ")}UTF-8 JSON";
        }
        catch (Exception e)
        {
            return $"threw {e.GetType().Name}: {e.Message}";
        }

        // Whatever it refused, the decoder reads the next frame (unless a refused envelope announced an attachment).
        if (!decoder.AwaitsAttachment && decoder.Decode("{\"t\":\"ping\",\"n\":7}"u8) is not Envelope.Ping(7))
            return "the decoder is not usable after it";

        return PlainOutcome(input);
    }

    // On a plain channel every frame is a raw message, or bad_json.
    private static string? PlainOutcome(byte[] input)
    {
        try
        {
            var raw = EnvelopeDecoder.DecodeRaw(new ReadOnlySequence<byte>(input));
            return (raw is null) == (input.Length == 0) && (raw is null || IsUtf8Json(input)) ? null : "a plain channel delivered it";
        }
        catch (MeshProtocolException e)
        {
            return e.Code == ErrorCodes.BadJson && !IsUtf8Json(input) ? null : $"a plain channel refused it with {e.Code} ({e.Message})";
        }
        catch (Exception e)
        {
            return $"a plain channel threw {e.GetType().Name}: {e.Message}";
        }
    }

    private static bool IsUtf8Json(byte[] input)
    {
        if (!System.Text.Unicode.Utf8.IsValid(input))
            return false;

        try
        {
            JsonDocument.Parse(input, new JsonDocumentOptions { MaxDepth = 65 }).Dispose(); // docs/protocol.md 4.1
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static byte[] Encode(Envelope envelope)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
            EnvelopeEncoder.Write(writer, envelope);
        return stream.ToArray();
    }

    private static byte[] Utf8(string json) => Encoding.UTF8.GetBytes(json);
}
