using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace MeshActors.Discovery.Redis;

/// <summary>
/// The messages on the <c>{prefix}:events</c> channel: <c>{"event":"join","registration":{...}}</c> carrying the
/// registration value as stored, and <c>{"event":"leave","id":"...","service_name":"..."}</c>.
/// </summary>
internal static class RedisAnnouncement
{
    public static byte[] Join(byte[] registration) => Write(writer =>
    {
        writer.WriteString("event", "join");
        writer.WritePropertyName("registration");
        writer.WriteRawValue(registration, skipInputValidation: true);
    });

    public static byte[] Leave(MeshMember member) => Write(writer =>
    {
        writer.WriteString("event", "leave");
        writer.WriteString("id", member.Id);
        writer.WriteString("service_name", member.Name);
    });

    /// <summary>Reads an announcement, validating a join's registration as strictly as a stored one.</summary>
    public static bool TryRead(ReadOnlyMemory<byte> message, int maxBytes, [NotNullWhen(true)] out RegistryChange? change, [NotNullWhen(false)] out string? error)
    {
        change = null;
        if (message.Length > maxBytes + 64)
        {
            error = $"message is {message.Length} bytes, over the cap";
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(message);
            var root = document.RootElement;
            var kind = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("event", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
            switch (kind)
            {
                case "join" when root.TryGetProperty("registration", out var registration):
                    if (!RegistrationCodec.TryRead(registration, out var member, out _, out error))
                        return false;
                    change = new MemberRegistered(member);
                    return true;
                case "leave" when root.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && Guid.TryParseExact(id.GetString(), "D", out _):
                    change = new MemberDeregistered(id.GetString()!);
                    error = null;
                    return true;
                default:
                    error = "not a join with a registration nor a leave with a UUID id";
                    return false;
            }
        }
        catch (JsonException ex)
        {
            error = $"message is not JSON ({ex.Message})";
            return false;
        }
        catch (InvalidOperationException ex)
        {
            // A string that is not valid UTF-8 (or escapes half a surrogate pair) throws only when read.
            error = $"message holds a string that is not valid text ({ex.Message})";
            return false;
        }
    }

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
