using System.Text;
using System.Text.Json;

namespace MeshActors.Tests;

/// <summary>
/// Deterministic mutations of valid JSON messages, for the specs that feed a decoder what other machines could send:
/// the same seed always yields the same inputs, so a failure names an input that reproduces it.
/// </summary>
/// <remarks>
/// Most mutations work on the tokens of the valid message (a value swapped for one of another type, a range, an escape
/// that is no text), because a decoder's type and range checks are where it stops checking syntax; the rest break the
/// bytes themselves (bit flips, JSON punctuation, spans dropped or repeated, invalid UTF-8).
/// </remarks>
internal static class Mutations
{
    /// <summary>Bytes that change the meaning of JSON when they land in the wrong place.</summary>
    private static readonly byte[] Significant = "\"{}[],:\\0123456789-+.eE \tnu"u8.ToArray();

    /// <summary>Values that a decoder expecting another type, range or text must refuse cleanly.</summary>
    private static readonly byte[][] Values =
    [
        .. new[]
        {
            "0", "-1", "1", "2", "1.5", "1e3", "-0", "1E+2", "2147483648", "-2147483649", "9007199254740991", "9007199254740992",
            "9223372036854775807", "9223372036854775808", "-9223372036854775809", "99999999999999999999999999999999", "1e400", "-1e400",
            "true", "false", "null", "\"\"", "\"1\"", "\"a\"", "\"true\"", "\"pub\"", "\"\\ud800\"", "\"\\udfff\"", "\"a\\udc00b\"",
            "\"\\ud800\\u0041\"", "\"\\u0000\"", "\"\\u00e9\"", "\"\\n\"", "\"x\\\"y\"", "[]", "{}", "[null]", "[1]", "[\"\\ud800\"]",
            "{\"\\ud800\":1}", "{\"a\":null}", "{\"\":\"\"}",
            new string('[', 70) + new string(']', 70), new string('[', 20) + new string(']', 20),
            string.Concat(Enumerable.Repeat("{\"a\":", 70)) + "1" + new string('}', 70),
            "\"" + new string('x', 300) + "\"", new string('9', 400),
        }.Select(Encoding.UTF8.GetBytes),
        [(byte)'"', 0xc3, 0x28, (byte)'"'],
        [(byte)'"', 0xed, 0xa0, 0x80, (byte)'"'],
        [(byte)'"', 0xf8, 0x88, 0x80, 0x80, 0x80, (byte)'"'],
        [(byte)'"', 0x80, (byte)'"'],
        [(byte)'"', 0xef, 0xbf, (byte)'"'],
    ];

    /// <summary>Bytes that are not UTF-8 anywhere: a bad continuation, an encoded surrogate, a lone continuation byte, a truncated sequence.</summary>
    private static readonly byte[][] InvalidUtf8 = [[0xc3, 0x28], [0xed, 0xa0, 0x80], [0x80], [0xe2, 0x82], [0xff], [0xc0, 0xaf]];

    /// <summary><paramref name="count"/> inputs, each one of <paramref name="seeds"/> with one mutation, or now and then a few.</summary>
    public static IEnumerable<byte[]> Of(IReadOnlyList<byte[]> seeds, int seed, int count)
    {
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var input = seeds[random.Next(seeds.Count)];
            var mutations = random.Next(4) == 0 ? 2 + random.Next(3) : 1;
            for (var m = 0; m < mutations; m++)
                input = Mutate(input, random);
            yield return input;
        }
    }

    /// <summary>Every prefix of <paramref name="message"/>, and the message with each byte in turn replaced by each JSON-significant byte.</summary>
    public static IEnumerable<byte[]> Exhaustive(byte[] message)
    {
        for (var length = 0; length < message.Length; length++)
            yield return message[..length];
        for (var i = 0; i < message.Length; i++)
        {
            foreach (var b in Significant)
            {
                if (message[i] != b)
                    yield return [.. message[..i], b, .. message[(i + 1)..]];
            }
        }
    }

    /// <summary>
    /// Fails with the first few inputs for which <paramref name="outcome"/> says what went wrong (null when the decoder
    /// did as it must; an exception it lets out counts as wrong too), each described as <paramref name="instead"/> says.
    /// </summary>
    public static void AssertEach(IEnumerable<byte[]> inputs, Func<byte[], string?> outcome, string instead)
    {
        var failures = new List<string>();
        var count = 0;
        foreach (var input in inputs)
        {
            count++;
            string? failure;
            try
            {
                failure = outcome(input);
            }
            catch (Exception e)
            {
                failure = $"threw {e.GetType().Name}: {e.Message}";
            }

            if (failure is not null && failures.Count < 5)
                failures.Add($"{failure}\n  for {Describe(input)}");
        }

        Assert.True(failures.Count == 0, $"Of {count} inputs, these were {instead}:\n" + string.Join("\n", failures));
    }

    /// <summary>A string for a failure message: the input as text when it is UTF-8, with its bytes in hex as well.</summary>
    public static string Describe(byte[] input) =>
        $"{Encoding.UTF8.GetString(input)}\n(hex {Convert.ToHexString(input)})";

    private static byte[] Mutate(byte[] input, Random random)
    {
        if (input.Length == 0)
            return Pick(Values, random);

        var (values, members) = Tokens(input);
        var at = random.Next(input.Length);
        switch (random.Next(12))
        {
            case 0 or 1 or 2 or 3 when values.Count > 0:
                return Replace(input, values[random.Next(values.Count)], Pick(Values, random));
            case 4 when members.Count > 0:
                var member = members[random.Next(members.Count)];
                return Replace(input, member.Start..member.Start, [.. input[member], (byte)',']);
            case 5 when members.Count > 0:
                return Drop(input, members[random.Next(members.Count)]);
            case 6:
                input = (byte[])input.Clone();
                input[at] ^= (byte)(1 << random.Next(8));
                return input;
            case 7:
                input = (byte[])input.Clone();
                input[at] = Significant[random.Next(Significant.Length)];
                return input;
            case 8:
                return input[..at];
            case 9:
                var spanEnd = Math.Min(input.Length, at + 1 + random.Next(16));
                return random.Next(2) == 0 ? Replace(input, at..spanEnd, []) : Replace(input, spanEnd..spanEnd, input[at..spanEnd]);
            case 10:
                return Replace(input, at..at, Pick(InvalidUtf8, random));
            default:
                return Replace(input, at..at, Pick(Values, random));
        }
    }

    // A member and the comma that separates it from the next one or, for the last, from the one before.
    private static byte[] Drop(byte[] input, Range member)
    {
        var (start, end) = (member.Start.Value, member.End.Value);
        return end < input.Length && input[end] == ',' ? Replace(input, start..(end + 1), [])
            : input[start - 1] == ',' ? Replace(input, (start - 1)..end, [])
            : Replace(input, member, []);
    }

    private static byte[] Pick(byte[][] choices, Random random) => choices[random.Next(choices.Length)];

    private static byte[] Replace(byte[] input, Range span, byte[] with)
    {
        var (start, length) = span.GetOffsetAndLength(input.Length);
        return [.. input.AsSpan(0, start), .. with, .. input.AsSpan(start + length)];
    }

    // The span of every value (scalars, and objects and arrays whole) and of every member (its name to the end of its
    // value) of a message; none when it is not JSON.
    private static (List<Range> Values, List<Range> Members) Tokens(byte[] json)
    {
        var values = new List<Range>();
        var members = new List<Range>();
        var open = new Stack<(int Start, int Member)>();
        var member = -1;
        try
        {
            var reader = new Utf8JsonReader(json);
            while (reader.Read())
            {
                var start = (int)reader.TokenStartIndex;
                var end = (int)reader.BytesConsumed;
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        member = start;
                        values.Add(start..NameEnd(json, start));
                        continue;
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        open.Push((start, member));
                        member = -1;
                        continue;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        (start, member) = open.Pop();
                        break;
                }

                values.Add(start..end);
                if (member >= 0)
                    members.Add(member..end);
                member = -1;
            }
        }
        catch (JsonException)
        {
            return ([], []);
        }

        return (values, members);
    }

    // Past the closing quote of the string that opens at start.
    private static int NameEnd(byte[] json, int start)
    {
        var i = start + 1;
        while (json[i] != '"')
            i += json[i] == '\\' ? 2 : 1;
        return i + 1;
    }
}
