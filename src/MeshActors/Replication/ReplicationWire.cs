using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using MeshActors.Protocol;

namespace MeshActors.Replication;

/// <summary>The messages replicas exchange on their topic <c>$dict/&lt;name&gt;</c> (docs/protocol.md, section 14).</summary>
internal static class ReplicationWire
{
    /// <summary>The version of these messages; a message of another version is refused.</summary>
    public const int Version = 1;

    /// <summary>The prefix of the reserved topics of dictionaries.</summary>
    public const string TopicPrefix = "$dict/";

    public const string Delta = "delta", State = "state", Pull = "pull";

    /// <summary>The <c>for</c> of a state sent unasked: no replica's id, so that it answers no pull.</summary>
    public const string Unasked = "";

    /// <summary>
    /// The greatest stamp and version-vector count (2^53-1): the largest integer a JavaScript or Python peer reads exactly.
    /// A version above it is refused; a local write that would pass it fails.
    /// </summary>
    public const long MaxCount = 9007199254740991;

    /// <summary>
    /// The highest a replica's Lamport clock follows the stamps of other replicas (2^52); above it, only its own writes move it.
    /// </summary>
    /// <remarks>
    /// A stamp up to <see cref="MaxCount"/> is valid, but a clock that followed one there could not write again, and a
    /// single version from a buggy peer would stop every replica's writes. Refusing stamps above some lower line would
    /// only move the trap there: the next write of a replica that took a stamp at the line would be refused by all the
    /// others. So no stamp is refused for its size below the maximum, and a clock follows others only this far: 2^52 more
    /// writes of its own (over a century at a million a second) before it reaches the maximum. Above the line a write's
    /// stamp may be below one it has seen, which changes no merge (a write replaces what it has seen by its vector) and
    /// only which of concurrent writes wins, the same way on every replica.
    /// </remarks>
    public const long MaxFollowedStamp = 1L << 52;

    /// <summary>
    /// How deep a value may nest: a pub envelope, the message, its entries, an entry, its versions and a version enclose
    /// it: within the 64 levels System.Text.Json reads by default, and the 65 a receiver reads (docs/protocol.md 4.1).
    /// </summary>
    public const int MaxValueDepth = 58;

    public static string Topic(string dictionary) => TopicPrefix + dictionary;

    /// <summary>True when <paramref name="value"/> nests no deeper than <see cref="MaxValueDepth"/>.</summary>
    public static bool IsNestable(JsonElement value)
    {
        var reader = new Utf8JsonReader(JsonMarshal.GetRawUtf8Value(value), new JsonReaderOptions { MaxDepth = MaxValueDepth });
        try
        {
            reader.Read();
            reader.Skip();
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>A message as read: its kind, the sending replica, whether it ends a state, its entries (key and versions, values still JSON), and the versions refused for breaking the format, each with its key and why.</summary>
    public sealed record Message(
        string Kind, string Replica, bool Final, IReadOnlyList<(string Key, IReadOnlyList<WireVersion> Versions)> Entries, IReadOnlyList<(string Key, string Reason)> Refused)
    {
        /// <summary>For a state: the replica whose pull it answers (the asker's <c>replica</c>); null when it did not say.</summary>
        public string? For { get; init; }
    }

    /// <summary>A version as read, before its value is read as the dictionary's type.</summary>
    public sealed record WireVersion(string Replica, string Node, VersionVector Vector, long Stamp, bool Removed, JsonElement Raw);

    public static byte[] EncodePull(string replica)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("v", Version);
            writer.WriteString("kind", Pull);
            writer.WriteString("replica", replica);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>One message of <paramref name="kind"/> with <paramref name="entries"/>.</summary>
    public static byte[] Encode<T>(string kind, string replica, bool final, IEnumerable<KeyValuePair<string, ReplicaVersion<T>[]>> entries)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Start(writer, kind, replica);
            foreach (var (key, versions) in entries)
                WriteEntry(writer, key, versions);
            End(writer, final);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The whole state as state messages of about <paramref name="chunkBytes"/> each; the last one is final (an empty
    /// state is one final message). An entry larger than a chunk goes in a message of its own, as long as it fits
    /// <paramref name="messageBytes"/>, what one message to the peer may hold, as a delta does; a key whose concurrent
    /// versions do not fit one message together goes one version per entry (merging them one by one gives the same
    /// versions). A version that does not fit is left out, its key and size in <paramref name="skipped"/>.
    /// </summary>
    public static List<byte[]> EncodeState<T>(
        string replica, string? forReplica, IReadOnlyList<KeyValuePair<string, ReplicaVersion<T>[]>> entries, int chunkBytes, int messageBytes,
        out List<(string Key, int Bytes)> skipped)
    {
        // ],"final":true,"for":"..."} and ]}: a chunk does not know yet whether it is the last.
        const int NotFinalEnd = 2;
        var finalEnd = 15 + (forReplica is null ? 0 : 9 + JsonEncodedText.Encode(forReplica).EncodedUtf8Bytes.Length);
        var left = new List<(string Key, int Bytes)>();
        var chunks = new List<byte[]>();
        var entry = new ArrayBufferWriter<byte>(1024);
        using var entryWriter = new Utf8JsonWriter(entry);
        var buffer = new ArrayBufferWriter<byte>(Math.Min(chunkBytes, 64 * 1024));
        using var writer = new Utf8JsonWriter(buffer);
        Start(writer, State, replica);
        writer.Flush();
        var start = buffer.WrittenCount;
        foreach (var (key, versions) in entries)
        {
            if (TryAdd(key, versions))
                continue;
            foreach (var version in versions.Length > 1 ? versions : [])
            {
                if (!TryAdd(key, [version]))
                    left.Add((key, entry.WrittenCount));
            }

            if (versions.Length == 1)
                left.Add((key, entry.WrittenCount));
        }

        Finish(final: true);
        skipped = left;
        return chunks;

        bool TryAdd(string key, ReplicaVersion<T>[] versions)
        {
            entry.Clear();
            entryWriter.Reset();
            WriteEntry(entryWriter, key, versions);
            entryWriter.Flush();
            if (start + entry.WrittenCount + NotFinalEnd > messageBytes)
                return false;
            if (buffer.WrittenCount > start && buffer.WrittenCount + 1 + entry.WrittenCount + finalEnd > chunkBytes)
                Finish(final: false);
            writer.WriteRawValue(entry.WrittenSpan, skipInputValidation: true);
            writer.Flush();
            // As large as a delta may be, too large for the final end: in a message of its own, a final one follows.
            if (start + entry.WrittenCount + finalEnd > messageBytes)
                Finish(final: false);
            return true;
        }

        void Finish(bool final)
        {
            End(writer, final, forReplica);
            chunks.Add(buffer.WrittenSpan.ToArray());
            if (final)
                return;
            buffer.Clear();
            writer.Reset();
            Start(writer, State, replica);
        }
    }

    /// <summary>The bytes a <c>pub</c> envelope on <paramref name="topic"/> adds around its data: what a message may not use of a frame.</summary>
    public static int EnvelopeOverhead(string topic)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer))
            EnvelopeEncoder.Write(writer, new Envelope.Pub(topic, "0"u8.ToArray()));
        return buffer.WrittenCount - 1;
    }

    /// <summary>Reads a message; its values stay JSON. A version (or an entry) that breaks the format is refused alone, in <see cref="Message.Refused"/>.</summary>
    /// <exception cref="FormatException">The message itself breaks the format (not an object, another <c>v</c>, an unknown <c>kind</c>, no <c>entries</c> array, a string outside the entries that is not text); says what is wrong. Nothing else is thrown, whatever the bytes.</exception>
    public static Message Decode(ReadOnlyMemory<byte> data)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(data);
        }
        catch (JsonException ex)
        {
            throw new FormatException("not JSON: " + ex.Message);
        }

        using (document)
        {
            try
            {
                return Read(document.RootElement);
            }
            catch (InvalidOperationException ex)
            {
                throw new FormatException(Reason(ex), ex);
            }
        }
    }

    /// <summary>The message in <paramref name="root"/>; a string that is not text may throw <see cref="InvalidOperationException"/> from anywhere in it.</summary>
    private static Message Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new FormatException("not a JSON object");
        if (!root.TryGetProperty("v", out var v) || !IsInteger(v, Version, Version, out _))
            throw new FormatException($"'v' is not {Version}");
        var kind = String(root, "kind");
        var replica = String(root, "replica");
        if (kind == Pull)
            return new Message(kind, replica, false, [], []);
        if (kind is not (Delta or State))
            throw new FormatException($"unknown kind '{kind}'");
        var final = root.TryGetProperty("final", out var f) && f.ValueKind == JsonValueKind.True;
        var forReplica = kind == State && root.TryGetProperty("for", out var asker) && asker.ValueKind == JsonValueKind.String ? asker.GetString() : null;
        if (!root.TryGetProperty("entries", out var entries) || entries.ValueKind != JsonValueKind.Array)
            throw new FormatException("'entries' is not an array");
        var read = new List<(string, IReadOnlyList<WireVersion>)>(entries.GetArrayLength());
        var refused = new List<(string, string)>();
        foreach (var entry in entries.EnumerateArray())
        {
            if (ReadEntry(entry, refused) is { } versions)
                read.Add(versions);
        }

        return new Message(kind, replica, final, read, refused) { For = forReplica };
    }

    /// <summary>An entry's key and the versions of it that keep to the format; null when the entry itself does not. What it refuses goes to <paramref name="refused"/>.</summary>
    private static (string Key, IReadOnlyList<WireVersion> Versions)? ReadEntry(JsonElement entry, List<(string, string)> refused)
    {
        var key = "(none)";
        JsonElement versions;
        try
        {
            if (entry.ValueKind != JsonValueKind.Object)
                throw new FormatException("an entry is not an object");
            key = String(entry, "key");
            if (!entry.TryGetProperty("versions", out versions) || versions.ValueKind != JsonValueKind.Array || versions.GetArrayLength() == 0)
                throw new FormatException("'versions' is not a non-empty array");
        }
        catch (Exception ex) when (IsFormatError(ex))
        {
            refused.Add((key, Reason(ex)));
            return null;
        }

        var read = new List<WireVersion>(versions.GetArrayLength());
        foreach (var version in versions.EnumerateArray())
        {
            try
            {
                read.Add(ReadVersion(version));
            }
            catch (Exception ex) when (IsFormatError(ex))
            {
                refused.Add((key, Reason(ex)));
            }
        }

        return read.Count == 0 ? null : (key, read);
    }

    private static WireVersion ReadVersion(JsonElement version)
    {
        if (version.ValueKind != JsonValueKind.Object)
            throw new FormatException("a version is not an object");
        var replica = String(version, "replica");
        var node = String(version, "node");
        if (!version.TryGetProperty("stamp", out var s) || !IsInteger(s, 1, MaxCount, out var stamp))
            throw new FormatException($"'stamp' is not an integer from 1 to {MaxCount}");
        if (!version.TryGetProperty("vv", out var vv) || vv.ValueKind != JsonValueKind.Object)
            throw new FormatException("'vv' is not an object");
        var counts = new List<KeyValuePair<string, long>>();
        foreach (var count in vv.EnumerateObject())
        {
            if (!IsInteger(count.Value, 1, MaxCount, out var n))
                throw new FormatException($"the count of '{count.Name}' in 'vv' is not an integer from 1 to {MaxCount}");
            // JSON readers disagree on a repeated name (JavaScript keeps the last, a merge here would keep the higher):
            // replicas in other languages would merge the same version differently.
            if (counts.Exists(seen => seen.Key == count.Name))
                throw new FormatException($"'vv' names replica '{count.Name}' twice");
            counts.Add(new KeyValuePair<string, long>(count.Name, n));
        }

        var vector = VersionVector.From(counts);
        if (vector[replica] < 1)
            throw new FormatException($"'vv' has no count for its own replica '{replica}'");
        var removed = version.TryGetProperty("removed", out var r) && r.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new FormatException("'removed' is not true or false"),
        };
        JsonElement raw = default;
        if (!removed && !version.TryGetProperty("value", out raw))
            throw new FormatException("a version that is not removed has no 'value'");
        return new WireVersion(replica, node, vector, stamp, removed, removed ? default : raw.Clone());
    }

    private static string String(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw new FormatException($"'{property}' is not a non-empty string");

    // JsonElement's TryGetInt64 throws on a value that is not a number: a string or an object where a count belongs is
    // as much a format error as a count out of range.
    private static bool IsInteger(JsonElement element, long min, long max, out long value)
    {
        value = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out value) && value >= min && value <= max;
    }

    // Valid JSON need not be text: a string or member name that escapes half a surrogate pair makes JsonElement throw
    // InvalidOperationException when it reads it, or compares it (TryGetProperty compares every name it passes).
    private static bool IsFormatError(Exception ex) => ex is FormatException or InvalidOperationException;

    private static string Reason(Exception ex) => ex is FormatException ? ex.Message : "a string or member name is not text: " + ex.Message;

    private static void Start(Utf8JsonWriter writer, string kind, string replica)
    {
        writer.WriteStartObject();
        writer.WriteNumber("v", Version);
        writer.WriteString("kind", kind);
        writer.WriteString("replica", replica);
        writer.WriteStartArray("entries");
    }

    /// <summary>
    /// Ends the entries; <c>final</c> follows them, as only then is it known (members of a JSON object have no order),
    /// with the replica whose pull the state answers, <paramref name="forReplica"/>, when there is one.
    /// </summary>
    private static void End(Utf8JsonWriter writer, bool final, string? forReplica = null)
    {
        writer.WriteEndArray();
        if (final)
        {
            writer.WriteBoolean("final", true);
            if (forReplica is not null)
                writer.WriteString("for", forReplica);
        }

        writer.WriteEndObject();
        writer.Flush();
    }

    private static void WriteEntry<T>(Utf8JsonWriter writer, string key, ReplicaVersion<T>[] versions)
    {
        writer.WriteStartObject();
        writer.WriteString("key", key);
        writer.WriteStartArray("versions");
        foreach (var version in versions)
        {
            writer.WriteStartObject();
            writer.WriteString("replica", version.Replica);
            writer.WriteString("node", version.Node);
            writer.WriteStartObject("vv");
            foreach (var (replica, count) in version.Vector.Counts)
                writer.WriteNumber(replica, count);
            writer.WriteEndObject();
            writer.WriteNumber("stamp", version.Stamp);
            if (version.Removed)
            {
                writer.WriteBoolean("removed", true);
            }
            else
            {
                // Sent on as it arrived: re-encoding a peer's value could fail on what JSON allows and .NET cannot hold
                // (an escaped lone surrogate) or change its bytes.
                writer.WritePropertyName("value");
                writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(version.Raw), skipInputValidation: true);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
