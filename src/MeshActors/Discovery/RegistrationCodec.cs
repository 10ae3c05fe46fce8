using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace MeshActors.Discovery;

/// <summary>
/// Writes and strictly reads the registration value: the Marketrix JSON
/// <c>{"id","service_name","host","port","metadata"}</c>, where <c>metadata</c> carries
/// <c>protocol_version</c>, <c>topics</c>, <c>services</c>, <c>tags</c> and <c>started_at</c>.
/// </summary>
/// <remarks>
/// The node's name is <c>service_name</c>; metadata does not repeat it. Anything that is not a valid registration is
/// rejected with a reason, so nothing is ever dialed on the strength of a malformed entry; fields this codec does not
/// know are kept in <see cref="MeshMember.Metadata"/> and written back unchanged.
/// </remarks>
internal static class RegistrationCodec
{
    /// <summary>Written by the local directory backend only: when the entry stops being live.</summary>
    public const string LeaseField = "lease_expires_at";

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Names and tags stay readable UTF-8 for Python and Node peers; JSON itself stays valid.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly JsonDocumentOptions ReaderOptions = new() { MaxDepth = 32 };

    private static readonly HashSet<string> ModeledMetadata = ["protocol_version", "topics", "services", "tags", "started_at"];

    /// <summary>Encodes this node's own registration, refusing anything other nodes could not read back.</summary>
    /// <exception cref="ArgumentException">The member is not registrable; the message says which field and why.</exception>
    public static byte[] EncodeRegistration(MeshMember self, int maxBytes, DateTimeOffset? leaseExpiresAt = null)
    {
        ArgumentNullException.ThrowIfNull(self);
        var problem = !Guid.TryParseExact(self.Id, "D", out _) ? $"id '{Shorten(self.Id)}' is not a UUID"
            : RegistryKey.NameProblem(self.Name) is { } nameProblem ? $"name '{Shorten(self.Name)}' {nameProblem}"
            : HostProblem(self.Host) ?? PortProblem(self.Port)
            ?? (self.ProtocolVersion < 0 ? "protocol version is negative" : null);
        if (problem is not null)
            throw new ArgumentException($"Cannot register node {Shorten(self.Id)}: {problem}.", nameof(self));

        var value = Encode(self, leaseExpiresAt);
        if (value.Length > maxBytes)
            throw new ArgumentException($"Cannot register node {self.Id}: its registration is {value.Length} bytes, over the {maxBytes}-byte cap (too many topics, services or tags).", nameof(self));
        return value;
    }

    /// <summary>
    /// Throws as <see cref="EncodeRegistration"/> does when <paramref name="self"/> cannot be registered by every backend:
    /// measured with the longest lease a backend may add (the local directory's), so that a registration accepted here
    /// is never refused at a heartbeat.
    /// </summary>
    public static void EnsureRegistrable(MeshMember self, int maxBytes) =>
        EncodeRegistration(self, maxBytes, new DateTimeOffset(9999, 12, 31, 23, 59, 59, TimeSpan.Zero).AddTicks(TimeSpan.TicksPerSecond - 1));

    /// <summary>Encodes <paramref name="member"/> as is, fields in the Marketrix order.</summary>
    public static byte[] Encode(MeshMember member, DateTimeOffset? leaseExpiresAt = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("id", member.Id);
            writer.WriteString("service_name", member.Name);
            writer.WriteString("host", member.Host);
            writer.WriteNumber("port", member.Port);
            writer.WriteStartObject("metadata");
            writer.WriteNumber("protocol_version", member.ProtocolVersion);
            WriteStrings(writer, "topics", member.Topics);
            WriteStrings(writer, "services", member.Services);
            writer.WriteStartObject("tags");
            foreach (var (name, value) in member.Tags)
                writer.WriteString(name, value);
            writer.WriteEndObject();
            if (member.StartedAt is { } startedAt)
                writer.WriteString("started_at", startedAt.UtcDateTime);
            if (member.Metadata is { ValueKind: JsonValueKind.Object } metadata)
            {
                foreach (var field in metadata.EnumerateObject())
                {
                    if (!ModeledMetadata.Contains(field.Name))
                        field.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
            if (leaseExpiresAt is { } lease)
                writer.WriteString(LeaseField, lease.UtcDateTime);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads a registration value, or says in a few words why it is not one.</summary>
    /// <param name="value">The raw value.</param>
    /// <param name="maxBytes">The size cap (<see cref="DiscoveryOptions.MaxRegistrationBytes"/>).</param>
    /// <param name="member">The member, when valid.</param>
    /// <param name="leaseExpiresAt">The <see cref="LeaseField"/>, when present.</param>
    /// <param name="error">Why the value was rejected.</param>
    public static bool TryDecode(
        ReadOnlyMemory<byte> value,
        int maxBytes,
        [NotNullWhen(true)] out MeshMember? member,
        out DateTimeOffset? leaseExpiresAt,
        [NotNullWhen(false)] out string? error)
    {
        member = null;
        leaseExpiresAt = null;
        if (value.Length > maxBytes)
        {
            error = $"value is {value.Length} bytes, over the {maxBytes}-byte cap";
            return false;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(value, ReaderOptions);
        }
        catch (JsonException ex)
        {
            error = $"value is not JSON ({ex.Message})";
            return false;
        }

        using (document)
        {
            return TryRead(document.RootElement, out member, out leaseExpiresAt, out error);
        }
    }

    /// <summary>Reads the value stored under a key (or file) and checks that it describes the node the key names.</summary>
    public static bool TryDecodeEntry(
        ReadOnlyMemory<byte> value,
        int maxBytes,
        string? keyName,
        string keyId,
        [NotNullWhen(true)] out MeshMember? member,
        out DateTimeOffset? leaseExpiresAt,
        [NotNullWhen(false)] out string? error)
    {
        if (!TryDecode(value, maxBytes, out member, out leaseExpiresAt, out error))
            return false;

        error = !string.Equals(member.Id, keyId, StringComparison.OrdinalIgnoreCase) ? $"id '{member.Id}' does not match the key's '{keyId}'"
            : keyName is not null && member.Name != keyName ? $"service_name '{Shorten(member.Name)}' does not match the key's '{Shorten(keyName)}'"
            : null;
        if (error is null)
            return true;

        member = null;
        return false;
    }

    /// <summary>Reads a registration already parsed, e.g. from an announcement.</summary>
    public static bool TryRead(
        JsonElement root,
        [NotNullWhen(true)] out MeshMember? member,
        out DateTimeOffset? leaseExpiresAt,
        [NotNullWhen(false)] out string? error)
    {
        try
        {
            return TryReadFields(root, out member, out leaseExpiresAt, out error);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            // JsonDocument checks the structure only: a string that is not valid UTF-8 (or escapes half a surrogate
            // pair) throws when it is read. A stranger's bytes are garbage to skip, never a failed listing.
            member = null;
            leaseExpiresAt = null;
            error = $"value holds a string that is not valid text ({ex.Message})";
            return false;
        }
    }

    private static bool TryReadFields(
        JsonElement root,
        [NotNullWhen(true)] out MeshMember? member,
        out DateTimeOffset? leaseExpiresAt,
        [NotNullWhen(false)] out string? error)
    {
        member = null;
        leaseExpiresAt = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = $"value is a JSON {Kind(root)}, not an object";
            return false;
        }

        if (!TryGetString(root, "id", out var id, out error)
            || !TryGetString(root, "service_name", out var name, out error)
            || !TryGetString(root, "host", out var host, out error))
        {
            return false;
        }

        if (!root.TryGetProperty("port", out var portElement))
        {
            error = "field 'port' is missing";
            return false;
        }

        if (portElement.ValueKind != JsonValueKind.Number || !portElement.TryGetInt32(out var port))
        {
            error = $"field 'port' must be an integer, not {Kind(portElement)} {Shorten(portElement.GetRawText())}";
            return false;
        }

        error = !Guid.TryParseExact(id, "D", out _) ? $"id '{Shorten(id)}' is not a UUID"
            : name.Length == 0 ? "field 'service_name' is empty"
            : name.Any(char.IsControl) ? "field 'service_name' contains control characters"
            : HostProblem(host) ?? PortProblem(port);
        if (error is not null)
            return false;

        member = new MeshMember(id, name, host, port);
        if (root.TryGetProperty("metadata", out var metadata) && metadata.ValueKind != JsonValueKind.Null)
        {
            if (!TryReadMetadata(metadata, member, out member, out error))
                return false;
        }

        if (root.TryGetProperty(LeaseField, out var lease))
        {
            if (lease.ValueKind != JsonValueKind.String || !lease.TryGetDateTimeOffset(out var expiresAt))
            {
                member = null;
                error = $"field '{LeaseField}' must be an ISO 8601 date";
                return false;
            }

            leaseExpiresAt = expiresAt;
        }

        return true;
    }

    /// <summary>The reason a host cannot be dialed, or null when it can.</summary>
    public static string? HostProblem(string host) =>
        host.Length == 0 ? "field 'host' is empty"
        : host.Length > 253 ? "field 'host' is longer than 253 characters"
        : Uri.CheckHostName(host) != UriHostNameType.Unknown || host.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') ? null
        : $"host '{Shorten(host)}' is not a host name or IP address";

    private static string? PortProblem(int port) =>
        port is < 1 or > 65535 ? $"port {port} is outside 1-65535" : null;

    private static bool TryReadMetadata(JsonElement metadata, MeshMember plain, [NotNullWhen(true)] out MeshMember? member, [NotNullWhen(false)] out string? error)
    {
        member = null;
        if (metadata.ValueKind != JsonValueKind.Object)
        {
            error = $"field 'metadata' must be an object, not {Kind(metadata)}";
            return false;
        }

        if (!metadata.TryGetProperty("protocol_version", out var versionElement))
        {
            // A Marketrix registration: its metadata is the peer's own (docs/discovery.md), whatever its "tags" or
            // "topics" hold; MeshActors' fields mean something only beside a protocol_version.
            ReadAllText(metadata);
            member = plain with { Metadata = metadata.Clone() };
            error = null;
            return true;
        }

        var version = 0;
        if (versionElement.ValueKind != JsonValueKind.Number || !versionElement.TryGetInt32(out version) || version < 0)
        {
            error = "field 'metadata.protocol_version' must be a non-negative integer";
            return false;
        }

        if (!TryGetStrings(metadata, "topics", out var topics, out error) || !TryGetStrings(metadata, "services", out var services, out error))
            return false;

        var tags = new Dictionary<string, string>();
        if (metadata.TryGetProperty("tags", out var tagsElement))
        {
            if (tagsElement.ValueKind != JsonValueKind.Object)
            {
                error = "field 'metadata.tags' must be an object of strings";
                return false;
            }

            foreach (var tag in tagsElement.EnumerateObject())
            {
                if (tag.Value.ValueKind != JsonValueKind.String)
                {
                    error = $"tag '{Shorten(tag.Name)}' must be a string, not {Kind(tag.Value)}";
                    return false;
                }

                tags[tag.Name] = tag.Value.GetString()!;
            }
        }

        DateTimeOffset? startedAt = null;
        if (metadata.TryGetProperty("started_at", out var startedElement))
        {
            if (startedElement.ValueKind != JsonValueKind.String || !startedElement.TryGetDateTimeOffset(out var started))
            {
                error = "field 'metadata.started_at' must be an ISO 8601 date";
                return false;
            }

            startedAt = started;
        }

        ReadAllText(metadata);
        member = plain with
        {
            ProtocolVersion = version,
            Topics = topics,
            Services = services,
            Tags = tags,
            StartedAt = startedAt,
            Metadata = metadata.Clone(),
        };
        error = null;
        return true;
    }

    // The fields kept unread must be text as much as the ones read: kept as they are, they would throw later, from
    // whoever reads them (MeshMember's equality, which the membership compares at every listing, included). Throws
    // like the reads above, for TryRead to turn into a reason.
    private static void ReadAllText(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                element.GetString();
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                    ReadAllText(item);
                break;
            case JsonValueKind.Object:
                foreach (var field in element.EnumerateObject())
                {
                    _ = field.Name;
                    ReadAllText(field.Value);
                }

                break;
        }
    }

    private static bool TryGetString(JsonElement root, string field, out string value, [NotNullWhen(false)] out string? error)
    {
        value = "";
        if (!root.TryGetProperty(field, out var element))
        {
            error = $"field '{field}' is missing";
            return false;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            error = $"field '{field}' must be a string, not {Kind(element)}";
            return false;
        }

        value = element.GetString()!;
        error = null;
        return true;
    }

    private static bool TryGetStrings(JsonElement metadata, string field, out IReadOnlyList<string> values, [NotNullWhen(false)] out string? error)
    {
        values = [];
        error = null;
        if (!metadata.TryGetProperty(field, out var element))
            return true;

        if (element.ValueKind != JsonValueKind.Array || element.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
        {
            error = $"field 'metadata.{field}' must be an array of strings";
            return false;
        }

        values = element.EnumerateArray().Select(e => e.GetString()!).ToArray();
        return true;
    }

    private static void WriteStrings(Utf8JsonWriter writer, string name, IReadOnlyList<string> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values)
            writer.WriteStringValue(value);
        writer.WriteEndArray();
    }

    private static string Kind(JsonElement element) => element.ValueKind.ToString().ToLowerInvariant();

    /// <summary>Keeps log lines short and printable whatever a stranger wrote.</summary>
    internal static string Shorten(string text)
    {
        var shown = text.Length > 64 ? text[..64] + "..." : text;
        return shown.Any(char.IsControl) ? new string(shown.Select(c => char.IsControl(c) ? '?' : c).ToArray()) : shown;
    }
}
