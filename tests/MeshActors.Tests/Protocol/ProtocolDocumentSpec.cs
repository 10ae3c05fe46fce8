using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using MeshActors.Protocol;

namespace MeshActors.Tests.Protocol;

/// <summary>docs/protocol.md and the code must say the same: its example frames, JSON and error codes are checked here.</summary>
/// <remarks>Run with MESHACTORS_UPDATE_PROTOCOL_DOC=1 to rewrite the examples in the document from the encoder.</remarks>
public sealed partial class ProtocolDocumentSpec
{
    private static readonly string DocumentPath = FindDocument();

    // Each example of the document, as the frames that encode it.
    private static readonly Dictionary<string, Envelope[]> Examples = new()
    {
        ["hello"] = [new Envelope.Hello("0b6f4a52-3c2e-4d8a-9f61-2a7c9e1d5b30", "pricing", Capabilities: [WireProtocol.BinaryCapability])],
        ["pub"] = [new Envelope.Pub("prices", Utf8("{\"sym\":\"ABC\",\"px\":101.5}"))],
        ["pub-bin"] = [new Envelope.Pub("images", Utf8("{\"name\":\"dot.png\"}")) { Attachment = new byte[] { 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a } }],
        ["req"] = [new Envelope.Req(1, "quote", Utf8("{\"sym\":\"ABC\"}")) { Timeout = TimeSpan.FromSeconds(2) }],
        ["res"] = [new Envelope.Res(1, Utf8("{\"px\":101.5}"))],
        ["err"] = [new Envelope.Err(ErrorCodes.HandlerError, "no quote for XYZ") { Id = 2, ExceptionType = typeof(KeyNotFoundException).FullName }],
        ["err-unknown"] = [Envelope.Err.From(Assert.Throws<MeshProtocolException>(() => new EnvelopeDecoder().Decode("{\"t\":\"frob\"}"u8)))],
        ["cancel"] = [new Envelope.Cancel(3)],
        ["interest"] = [new Envelope.Interest(1, ["prices"], ["quote"])],
        ["ping"] = [new Envelope.Ping(1)],
        ["pong"] = [new Envelope.Pong(1)],
        ["bye"] = [new Envelope.Bye(Envelope.Bye.Shutdown)],
        ["raw"] = [new Envelope.Raw(Utf8("{\"message\":\"Message from Node #0\"}"))],
    };

    [Fact]
    public void Every_example_in_the_specification_must_be_what_the_encoder_writes()
    {
        var document = File.ReadAllText(DocumentPath);
        var expected = ExpectedBlocks();
        if (Environment.GetEnvironmentVariable("MESHACTORS_UPDATE_PROTOCOL_DOC") == "1")
        {
            document = Example().Replace(document, m => expected.TryGetValue(Key(m), out var text)
                ? $"{m.Groups["marker"].Value}{m.Groups["fence"].Value}{text}```"
                : m.Value);
            File.WriteAllText(DocumentPath, document);
        }

        var documented = Example().Matches(document).ToDictionary(Key, m => m.Groups["text"].Value);
        var wrong = expected.Where(e => documented.GetValueOrDefault(e.Key) != e.Value)
            .Select(e => $"{e.Key} should read:\n{e.Value}")
            .Concat(documented.Keys.Except(expected.Keys).Select(key => $"{key} has no example in this test"))
            .ToList();
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public void Every_hex_dump_in_the_specification_must_decode_to_its_envelopes()
    {
        var documented = Example().Matches(File.ReadAllText(DocumentPath)).Where(m => m.Groups["kind"].Value == "hex");

        foreach (var dump in documented)
        {
            var name = dump.Groups["name"].Value;
            var bytes = Convert.FromHexString(string.Concat(dump.Groups["text"].Value.Split('\n')
                .Where(line => line.Length > 10)
                .Select(line => line[10..59].Replace(" ", ""))));

            Assert.Equal(Examples[name].Select(Wire.Describe), Wire.Decode(bytes).Select(Wire.Describe));
        }
    }

    [Fact]
    public void The_error_code_table_in_the_specification_must_match_the_error_codes()
    {
        var table = File.ReadAllText(DocumentPath).Split("### 9.2")[1].Split("\n## ")[0];
        var documented = ErrorCodeRow().Matches(table).ToDictionary(m => m.Groups["code"].Value, m => m.Groups["after"].Value == "close");
        var coded = typeof(ErrorCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (string)f.GetValue(null)!)
            .ToDictionary(code => code, ErrorCodes.ClosesChannel);

        Assert.Equal(coded.OrderBy(c => c.Key), documented.OrderBy(c => c.Key));
    }

    private static Dictionary<string, string> ExpectedBlocks()
    {
        var blocks = new Dictionary<string, string>();
        foreach (var (name, frames) in Examples)
        {
            var bytes = Wire.Encode(frames);
            blocks[$"hex:{name}"] = HexDump.Format(bytes);
            var firstLength = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes);
            blocks[$"json:{name}"] = Encoding.UTF8.GetString(bytes, FrameReader.LengthSize, firstLength) + "\n";
        }

        return blocks;
    }

    private static string Key(Match m) => $"{m.Groups["kind"].Value}:{m.Groups["name"].Value}";

    private static byte[] Utf8(string json) => Encoding.UTF8.GetBytes(json);

    private static string FindDocument()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var path = Path.Combine(directory.FullName, "docs", "protocol.md");
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException("docs/protocol.md not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"(?<marker><!-- (?<kind>json|hex):(?<name>[\w-]+) -->\n)(?<fence>```[a-z]*\n)(?<text>.*?)```", RegexOptions.Singleline)]
    private static partial Regex Example();

    [GeneratedRegex(@"^\| `(?<code>[a-z_]+)` \|.*\| (?<after>close|continue) \|$", RegexOptions.Multiline)]
    private static partial Regex ErrorCodeRow();
}
