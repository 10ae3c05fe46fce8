using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MeshActors.Protocol;
using MeshActors.Tests.Peers;
using Xunit.Abstractions;

namespace MeshActors.Tests.Protocol;

/// <summary>
/// A JSON string may escape a lone surrogate (<c>"\ud83d"</c>: what JavaScript's <c>JSON.stringify</c> and Python's
/// <c>json.dumps</c> write for half an emoji). It is valid JSON (the decoder's own fuzz spec holds it to that), so a frame
/// holding one where the protocol never looks (an unknown member, a member's name) must be read like any other frame
/// (docs/protocol.md 4.1: unknown members are ignored, of a repeated member the last one wins), and a frame refused for
/// another reason must get its err and leave the channel open (9.1). The hot frame types (pub, req, res, ping...) do all
/// of that; these specs hold the rest of the decoder and the channel's reading to it. The last one is a deterministic
/// differential fuzzer: mutations of the example frames of docs/protocol.md, decoded and compared, value by value, with
/// what <see cref="JsonDocument"/> reads and the documented rules make of them.
/// </summary>
[Collection(nameof(PeersCollection))]
public sealed class LoneSurrogateFuzzSpec(ITestOutputHelper output)
{
    private const long MaxSafeInteger = (1L << 53) - 1;

    // 9.1: unknown_type and bad_envelope leave the channel open; the peer's next frame is still read and answered.
    [Theory]
    [InlineData("{\"t\":\"\\ud83d\"}", ErrorCodes.UnknownType)]
    [InlineData("{\"t\":\"frob\",\"\\ud83d\":1}", ErrorCodes.UnknownType)]
    [InlineData("{\"\\ud83d\":1,\"t\":\"req\",\"id\":7}", ErrorCodes.BadEnvelope)]
    public async Task A_refused_frame_with_a_lone_surrogate_escaped_at_its_top_level_must_get_its_err_and_the_channel_must_go_on(string json, string code)
    {
        await using var node = await TestNode.StartAsync(output, "node");
        await using var raw = await RawPeer.OpenAsync(node.Address);
        await raw.HandshakeAsync();

        await raw.WriteJsonAsync(json);
        var err = Assert.IsType<Envelope.Err>(await ReadSkippingInterestAsync(raw));
        await raw.WriteAsync(new Envelope.Ping(42));
        var next = await ReadSkippingInterestAsync(raw);

        Assert.Equal(code, err.Code);
        Assert.True(next is Envelope.Pong { Value: 42 },
            $"After the '{err.Code}' err the node should have answered the next ping; instead it {(next is null ? "ended the channel" : $"sent {next}")}.");
    }

    // 4.1: unknown members are ignored, whatever their name; a pub with the same member decodes.
    [Theory]
    [InlineData("{\"t\":\"bye\",\"reason\":\"shutdown\",\"\\ud83d\":1}")]
    [InlineData("{\"t\":\"err\",\"id\":7,\"code\":\"handler_error\",\"msg\":\"boom\",\"\\ud83d\":1}")]
    [InlineData("{\"t\":\"interest\",\"ver\":1,\"topics\":[\"prices\"],\"services\":[],\"\\ud83d\":1}")]
    [InlineData("{\"t\":\"hello\",\"v\":1,\"node\":\"n\",\"name\":\"x\",\"\\ud83d\":1}")]
    public void An_unknown_member_whose_name_escapes_a_lone_surrogate_must_be_ignored_in_every_frame_type(string json)
    {
        Assert.IsType<Envelope.Pub>(new EnvelopeDecoder().Decode("{\"t\":\"pub\",\"topic\":\"a\",\"\\ud83d\":1}"u8));

        var outcome = Outcome(json);

        Assert.DoesNotContain("refused", outcome);
    }

    // 4.1: of a repeated member the last one wins, and null counts as absent; an unknown member holding a lone surrogate
    // is ignored. Each rule alone is kept; together, the frame is refused and the request it answers is never failed.
    [Theory]
    [InlineData("{\"t\":\"err\",\"id\":\"7\",\"id\":7,\"code\":\"handler_error\",\"msg\":\"boom\",\"detail\":\"\\ud83d\"}")]
    [InlineData("{\"t\":\"err\",\"id\":7,\"code\":\"handler_error\",\"msg\":null,\"msg\":\"boom\",\"detail\":\"\\ud83d\"}")]
    public void A_repeated_member_must_be_read_as_its_last_occurrence_when_another_member_escapes_a_lone_surrogate(string json)
    {
        Assert.Equal("err id=7 code=handler_error msg=boom type=", Outcome(json.Replace(",\"detail\":\"\\ud83d\"", "")));
        Assert.Equal("err id=7 code=handler_error msg=boom type=", Outcome(Regex.Replace(json, "\"(id|msg)\":(\"7\"|null),", "")));

        Assert.Equal("err id=7 code=handler_error msg=boom type=", Outcome(json));
    }

    [Fact]
    public async Task Decoding_must_read_every_mutation_of_the_documented_frames_as_json_and_the_documented_rules_read_it()
    {
        var wrong = await Task.Run(() => Fuzz(seed: 20260318, count: 30_000)).WithTimeout();

        Assert.True(wrong.Count == 0, $"{wrong.Count} inputs decoded otherwise than the documented rules say, e.g.:\n" + string.Join("\n", wrong.Take(6)));
    }

    private static async Task<Envelope?> ReadSkippingInterestAsync(RawPeer raw)
    {
        while (true)
        {
            var envelope = await raw.ReadAsync();
            if (envelope is not Envelope.Interest)
                return envelope;
        }
    }

    // ---- The fuzzer ----

    // The example frames of docs/protocol.md (5.1 to 5.9, 6, 4.3), and a few with every optional member.
    private static readonly string[] Seeds =
    [
        "{\"t\":\"hello\",\"v\":1,\"node\":\"0b6f4a52-3c2e-4d8a-9f61-2a7c9e1d5b30\",\"name\":\"pricing\",\"caps\":[\"bin\"],\"max_frame\":16777216}",
        "{\"t\":\"hello\",\"v\":1,\"node\":\"n\",\"name\":\"x\",\"incarnation\":\"9f61\"}",
        "{\"t\":\"pub\",\"topic\":\"prices\",\"data\":{\"sym\":\"ABC\",\"px\":101.5}}",
        "{\"t\":\"pub\",\"topic\":\"images\",\"bin\":8,\"data\":{\"name\":\"dot.png\"}}",
        "{\"t\":\"pub\",\"topic\":\"p\",\"trace\":\"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\",\"tracestate\":\"congo=t61rcWkgMzE,rojo=00f067aa0ba902b7\",\"data\":[1,\"\\u00e9\"]}",
        "{\"t\":\"req\",\"id\":1,\"service\":\"quote\",\"timeout_ms\":2000,\"data\":{\"sym\":\"ABC\"}}",
        "{\"t\":\"req\",\"id\":9007199254740991,\"service\":\"q\",\"idempotent\":true,\"bin\":0,\"trace\":\"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\"}",
        "{\"t\":\"res\",\"id\":1,\"data\":{\"px\":101.5}}",
        "{\"t\":\"err\",\"id\":2,\"code\":\"handler_error\",\"msg\":\"no quote for XYZ\",\"type\":\"System.Collections.Generic.KeyNotFoundException\"}",
        "{\"t\":\"err\",\"code\":\"unknown_type\",\"msg\":\"Unknown frame type 'frob'.\"}",
        "{\"t\":\"cancel\",\"id\":3}",
        "{\"t\":\"interest\",\"ver\":1,\"topics\":[\"prices\"],\"services\":[\"quote\"]}",
        "{\"t\":\"ping\",\"n\":1}",
        "{\"t\":\"pong\",\"n\":1}",
        "{\"t\":\"bye\",\"reason\":\"shutdown\"}",
        "{\"message\":\"Message from Node #0\"}",
    ];

    private static readonly string[] Names =
    [
        "t", "v", "node", "name", "caps", "max_frame", "incarnation", "topic", "data", "bin", "trace", "tracestate", "id", "service",
        "timeout_ms", "idempotent", "code", "msg", "type", "ver", "topics", "services", "n", "reason", "extra", "\\u0074", "i\\u0064", "\\ud83d", "T",
    ];

    private static readonly string[] Values =
    [
        "0", "-0", "1", "-1", "2", "1.0", "1e3", "1E0", "0.0", "65536", "65535", "2147483647", "2147483648", "9007199254740991", "9007199254740992", "1e400",
        "true", "false", "null", "\"\"", "\"a\"", "\"bin\"", "\"\\u0062in\"", "\"\\ud83d\"", "\"\\u00e9\"", "\"é\"", "[]", "[\"bin\"]", "[null]", "{}", "[1]",
        "\"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\"", "\"00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01\"", "\"k=v\"",
    ];

    private static List<string> Fuzz(int seed, int count)
    {
        var wrong = new List<string>();
        foreach (var input in Inputs(seed, count))
        {
            var actual = Outcome(input);
            var expected = Expected(input);
            if (actual != expected)
                wrong.Add($"{Encoding.UTF8.GetString(input)}\n  decoded:  {actual}\n  expected: {expected}");
        }

        return wrong;
    }

    // Byte-level and token-level mutations (Mutations), and members added, repeated or spaced out.
    private static IEnumerable<byte[]> Inputs(int seed, int count)
    {
        foreach (var input in Mutations.Of(Seeds.Select(Encoding.UTF8.GetBytes).ToArray(), seed, count))
            yield return input;

        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var json = Seeds[random.Next(Seeds.Length)];
            for (var m = random.Next(3); m >= 0; m--)
            {
                var member = $"\"{Names[random.Next(Names.Length)]}\":{Values[random.Next(Values.Length)]}";
                json = random.Next(2) == 0 ? "{" + member + "," + json[1..] : json[..^1] + "," + member + "}";
            }

            if (random.Next(5) == 0)
                json = json.Replace(",", " ,\n\t").Replace(":", " : ");
            yield return Encoding.UTF8.GetBytes(json);
        }
    }

    private static string Outcome(string json) => Outcome(Encoding.UTF8.GetBytes(json));

    // What the decoder made of input, as text; "+attachment" when it takes the next frame as an attachment.
    private static string Outcome(byte[] input)
    {
        var decoder = new EnvelopeDecoder();
        string outcome;
        try
        {
            outcome = Describe(decoder.Decode(input.AsSpan()));
        }
        catch (MeshProtocolException e)
        {
            outcome = $"refused {e.Code} id={e.RequestId}";
        }

        return decoder.AwaitsAttachment ? outcome + " +attachment" : outcome;
    }

    private static string Describe(Envelope? envelope) => envelope switch
    {
        null => "nothing yet",
        Envelope.Pub p => $"pub topic={p.Topic} data={Text(p.Data)} trace={p.Trace?.Parent}|{p.Trace?.State}",
        Envelope.Req r => $"req id={r.Id} service={r.Service} timeout={r.Timeout?.TotalMilliseconds} idempotent={r.Idempotent} data={Text(r.Data)} trace={r.Trace?.Parent}|{r.Trace?.State}",
        Envelope.Res r => $"res id={r.Id} data={Text(r.Data)}",
        Envelope.Raw r => $"raw {Text(r.Json)}",
        Envelope.Hello h => $"hello v={h.Version} node={h.NodeId} name={h.Name} caps=[{string.Join(",", h.Capabilities)}] max_frame={h.MaxFrameSize} incarnation={h.Incarnation}",
        Envelope.Err e => $"err id={e.Id} code={e.Code} msg={e.Message} type={e.ExceptionType}",
        Envelope.Interest i => $"interest ver={i.Version} topics=[{string.Join(",", i.Topics)}] services=[{string.Join(",", i.Services)}]",
        Envelope.Cancel c => $"cancel id={c.Id}",
        Envelope.Ping p => $"ping n={p.Value}",
        Envelope.Pong p => $"pong n={p.Value}",
        Envelope.Bye b => $"bye reason={b.Reason}",
        _ => envelope.ToString(),
    };

    private static string Text(ReadOnlyMemory<byte> utf8) => Encoding.UTF8.GetString(utf8.Span);

    private sealed class Refused(string code, long? id = null, bool claimsAttachment = true) : Exception
    {
        public string Outcome { get; } = $"refused {code} id={id}";

        public bool ClaimsAttachment { get; } = claimsAttachment;
    }

    // What docs/protocol.md (3, 4.1-4.3, 5, 6, 9.1) makes of input, read with JsonDocument. Where the documents leave a choice
    // to the receiver it takes the decoder's: a string of a member the protocol reads that escapes a lone surrogate is no
    // text (bad_envelope); a hello's v outside 32 bits is bad_envelope; a refused err, interest or bye, or a hello refused for
    // anything but its v, does not claim an attachment (a refused hello closes the channel anyway).
    private static string Expected(byte[] input)
    {
        if (input.Length == 0)
            return "nothing yet";
        JsonDocument document;
        try
        {
            document = System.Text.Unicode.Utf8.IsValid(input)
                ? JsonDocument.Parse(input, new JsonDocumentOptions { MaxDepth = WireProtocol.MaxDepth })
                : throw new JsonException();
        }
        catch (JsonException)
        {
            return "refused bad_json id=";
        }

        using var _ = document;
        var root = document.RootElement;
        var members = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (root.ValueKind == JsonValueKind.Object)
        {
            foreach (var member in root.EnumerateObject())
            {
                if (TryString(() => member.Name) is { } name)
                    members[name] = member.Value; // the last one wins; a name that is no text is no member the protocol knows
            }
        }

        if (!members.TryGetValue("t", out var t))
            return $"raw {Encoding.UTF8.GetString(input)}";

        var bin = Integer(members, "bin", 0, int.MaxValue, out var badBin);
        var type = t.ValueKind == JsonValueKind.String ? TryString(t.GetString) ?? "" : null;
        try
        {
            return type switch
            {
                null => throw new Refused(ErrorCodes.BadEnvelope),
                "pub" => WithAttachment(Pub()),
                "req" => WithAttachment(Req()),
                "res" => WithAttachment(Res()),
                "cancel" => $"cancel id={Integer(members, "id", 1, MaxSafeInteger, required: true)}",
                "ping" or "pong" => $"{type} n={Integer(members, "n", 0, MaxSafeInteger, required: true)}",
                "err" => $"err id={Integer(members, "id", 1, MaxSafeInteger)} code={String(members, "code", required: true)} msg={String(members, "msg", required: true)} type={String(members, "type")}",
                "interest" => $"interest ver={Integer(members, "ver", 1, MaxSafeInteger, required: true)} topics=[{string.Join(",", Strings(members, "topics"))}] services=[{string.Join(",", Strings(members, "services"))}]",
                "bye" => $"bye reason={String(members, "reason", required: true)}",
                "hello" => Hello(),
                _ => throw new Refused(ErrorCodes.UnknownType),
            };
        }
        catch (Refused refused)
        {
            // 6: a refused envelope with a readable bin still owns the next frame.
            return type is "err" or "interest" or "bye" || !refused.ClaimsAttachment || bin is null || badBin ? refused.Outcome : refused.Outcome + " +attachment";
        }

        string WithAttachment(string envelope) => bin is null ? envelope : "nothing yet +attachment";

        string Pub()
        {
            var topic = String(members, "topic", required: true, nonEmpty: true);
            Check(!badBin);
            return $"pub topic={topic} data={Data()} trace={Trace()}";
        }

        string Req()
        {
            long? id = null;
            try
            {
                id = Integer(members, "id", 1, MaxSafeInteger, required: true);
                var service = String(members, "service", required: true, nonEmpty: true);
                var timeout = Integer(members, "timeout_ms", 1, int.MaxValue);
                var idempotent = Present(members, "idempotent") is { } flag
                    ? flag.ValueKind is JsonValueKind.True or JsonValueKind.False ? flag.ValueKind == JsonValueKind.True : throw new Refused(ErrorCodes.BadEnvelope)
                    : false;
                Check(!badBin);
                return $"req id={id} service={service} timeout={timeout} idempotent={idempotent} data={Data()} trace={Trace()}";
            }
            catch (Refused)
            {
                throw new Refused(ErrorCodes.BadEnvelope, id);
            }
        }

        string Res()
        {
            var id = Integer(members, "id", 1, MaxSafeInteger, required: true);
            Check(!badBin);
            return $"res id={id} data={Data()}";
        }

        string Hello()
        {
            var v = Present(members, "v") is { ValueKind: JsonValueKind.Number } number && IsInteger(number) && long.TryParse(number.GetRawText(), out var value)
                && value is >= int.MinValue and <= int.MaxValue ? value : throw new Refused(ErrorCodes.BadEnvelope);
            if (v != 1)
                throw new Refused(ErrorCodes.UnsupportedVersion, claimsAttachment: false);
            try
            {
                var node = String(members, "node", required: true, nonEmpty: true);
                var name = String(members, "name", required: true, nonEmpty: true);
                var caps = Present(members, "caps") is null ? [] : Strings(members, "caps");
                var maxFrame = Integer(members, "max_frame", ProtocolOptions.SmallestMaxFrameSize, int.MaxValue) ?? ProtocolOptions.DefaultMaxFrameSize;
                return $"hello v=1 node={node} name={name} caps=[{string.Join(",", caps)}] max_frame={maxFrame} incarnation={String(members, "incarnation")}";
            }
            catch (Refused)
            {
                throw new Refused(ErrorCodes.BadEnvelope, claimsAttachment: false);
            }
        }

        string Data() => members.TryGetValue("data", out var data) ? data.GetRawText() : "null";

        // 5.2: a traceparent written without escapes, its tracestate printable ASCII without escapes; otherwise ignored.
        string Trace()
        {
            if (!members.TryGetValue("trace", out var trace) || trace.ValueKind != JsonValueKind.String)
                return "|";
            var parent = trace.GetRawText()[1..^1];
            var parts = Regex.Match(parent, "^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$");
            if (!parts.Success || parts.Groups[1].Value == "ff" || parts.Groups[2].Value.All(c => c == '0') || parts.Groups[3].Value.All(c => c == '0'))
                return "|";
            var state = members.TryGetValue("tracestate", out var s) && s.ValueKind == JsonValueKind.String ? s.GetRawText()[1..^1] : null;
            return state is { Length: > 0 and <= 512 } && state.All(c => c is >= ' ' and <= '~' and not '\\') ? $"{parent}|{state}" : $"{parent}|";
        }
    }

    private static void Check(bool valid)
    {
        if (!valid)
            throw new Refused(ErrorCodes.BadEnvelope);
    }

    // 4.1: a member whose value is null counts as absent.
    private static JsonElement? Present(Dictionary<string, JsonElement> members, string name) =>
        members.TryGetValue(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    // 4.1: integers are JSON numbers without fraction or exponent.
    private static bool IsInteger(JsonElement number) => Regex.IsMatch(number.GetRawText(), "^-?(0|[1-9][0-9]*)$");

    private static long? Integer(Dictionary<string, JsonElement> members, string name, long min, long max, bool required = false) =>
        Integer(members, name, min, max, out var bad, required) is var value && bad ? throw new Refused(ErrorCodes.BadEnvelope) : value;

    private static long? Integer(Dictionary<string, JsonElement> members, string name, long min, long max, out bool bad, bool required = false)
    {
        bad = false;
        if (Present(members, name) is not { } element)
        {
            bad = required;
            return null;
        }

        if (element.ValueKind == JsonValueKind.Number && IsInteger(element) && long.TryParse(element.GetRawText(), out var value) && value >= min && value <= max)
            return value;
        bad = true;
        return null;
    }

    private static string? String(Dictionary<string, JsonElement> members, string name, bool required = false, bool nonEmpty = false)
    {
        if (Present(members, name) is not { } element)
            return required ? throw new Refused(ErrorCodes.BadEnvelope) : null;
        var text = element.ValueKind == JsonValueKind.String ? TryString(element.GetString) : null;
        return text is null || (nonEmpty && text.Length == 0) ? throw new Refused(ErrorCodes.BadEnvelope) : text;
    }

    private static List<string> Strings(Dictionary<string, JsonElement> members, string name)
    {
        if (Present(members, name) is not { ValueKind: JsonValueKind.Array } array)
            throw new Refused(ErrorCodes.BadEnvelope);
        return array.EnumerateArray()
            .Select(e => e.ValueKind == JsonValueKind.String ? TryString(e.GetString) : null)
            .Select(s => s ?? throw new Refused(ErrorCodes.BadEnvelope))
            .ToList();
    }

    // Null for a string that escapes a lone surrogate: JSON, but no text.
    private static string? TryString(Func<string?> read)
    {
        try
        {
            return read();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
