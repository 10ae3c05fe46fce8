using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using MeshActors.Protocol;

namespace MeshActors.Messaging;

/// <summary>How application values become a message's <c>data</c> and attachment, and back.</summary>
/// <remarks>
/// Typed values go through System.Text.Json with the node's options (source-generated contexts included);
/// <see cref="JsonElement"/> travels as is; <c>ReadOnlyMemory&lt;byte&gt;</c> and <c>byte[]</c> travel as the binary
/// attachment with <c>null</c> data, so large binary data is never base64-encoded.
/// </remarks>
internal static class Payload
{
    /// <summary>The JSON text <c>null</c>.</summary>
    public static readonly ReadOnlyMemory<byte> Null = "null"u8.ToArray();

    /// <summary>Why an answer is not read as a <see cref="ServiceReply"/>: its JSON is the handler's message, not a reply.</summary>
    public const string ReadReplyAsResponse =
        "A ServiceReply is what a handler answers with, not what a caller reads: ask for a ServiceResponse, which gives the answer's JSON and its attachment.";

    /// <summary>Encodes <paramref name="value"/> with <paramref name="attachment"/> beside it (a <paramref name="what"/>: message, request, answer).</summary>
    /// <exception cref="ArgumentException">An attachment is given and <paramref name="value"/> carries one already: a message carries one.</exception>
    public static (ReadOnlyMemory<byte> Data, ReadOnlyMemory<byte> Attachment) Encode<T>(
        T value, ReadOnlyMemory<byte> attachment, string what, JsonSerializerOptions options)
    {
        if (attachment.IsEmpty)
            return Encode(value, options);
        if (CarriesAttachment(value))
        {
            throw new ArgumentException(
                $"A {value?.GetType().Name ?? typeof(T).Name} {what} already carries a binary attachment: send the bytes as the {what}, or a JSON value with them.",
                nameof(attachment));
        }

        return (Encode(value, options).Data, attachment);
    }

    /// <summary>True when <paramref name="value"/> is an attachment itself (<c>byte[]</c> or <c>ReadOnlyMemory&lt;byte&gt;</c>, empty or not) or brings one (a <see cref="ServiceReply"/> with bytes).</summary>
    public static bool CarriesAttachment<T>(T value) =>
        typeof(T) == typeof(byte[]) || typeof(T) == typeof(ReadOnlyMemory<byte>) || value is byte[] or ReadOnlyMemory<byte>
        || (value is ServiceReply reply && (!reply.Attachment.IsEmpty || CarriesAttachment(reply.Message)));

    /// <summary>
    /// Throws <see cref="NotSupportedException"/> (naming the type) when <paramref name="options"/> cannot read or
    /// write <typeparamref name="T"/>, as with a source-generated context that lacks it; the types read and written
    /// here without the serializer pass.
    /// </summary>
    public static void EnsureSupported<T>(JsonSerializerOptions options)
    {
        if (typeof(T) == typeof(ReadOnlyMemory<byte>) || typeof(T) == typeof(ReadOnlyMemory<byte>?) || typeof(T) == typeof(byte[])
            || typeof(T) == typeof(JsonElement) || typeof(T) == typeof(ServiceReply) || typeof(T) == typeof(ServiceResponse) || typeof(T) == typeof(object))
            return;
        options.GetTypeInfo(typeof(T));
    }

    public static (ReadOnlyMemory<byte> Data, ReadOnlyMemory<byte> Attachment) Encode<T>(T value, JsonSerializerOptions options)
    {
        // Each branch is decided when the method is compiled for T, so typed values pay for none of these checks.
        if (typeof(T) == typeof(ReadOnlyMemory<byte>))
            return (Null, Unsafe.As<T, ReadOnlyMemory<byte>>(ref value));
        if (typeof(T) == typeof(ReadOnlyMemory<byte>?))
            return (Null, Unsafe.As<T, ReadOnlyMemory<byte>?>(ref value) ?? default);
        if (typeof(T) == typeof(byte[]))
            return (Null, (byte[]?)(object?)value ?? default(ReadOnlyMemory<byte>));
        if (typeof(T) == typeof(JsonElement))
            return (ElementBytes(Unsafe.As<T, JsonElement>(ref value)), default);
        if (typeof(T) == typeof(ServiceReply))
            return Encode((ServiceReply?)(object?)value, options);
        if (typeof(T) == typeof(object))
            return Encode((object?)value, options);
        return (JsonSerializer.SerializeToUtf8Bytes(value, options), default);
    }

    /// <summary>Encodes by runtime type: what actors' <see cref="Publish"/> and <see cref="Request"/> messages carry.</summary>
    public static (ReadOnlyMemory<byte> Data, ReadOnlyMemory<byte> Attachment) Encode(object? value, JsonSerializerOptions options) => value switch
    {
        null => (Null, default),
        ReadOnlyMemory<byte> bytes => (Null, bytes),
        byte[] bytes => (Null, bytes),
        JsonElement element => (ElementBytes(element), default),
        ServiceReply reply => Encode(reply, options),
        _ => (JsonSerializer.SerializeToUtf8Bytes(value, value.GetType(), options), default),
    };

    /// <summary>A service's answer with its own attachment: the message's JSON, and the bytes beside it.</summary>
    private static (ReadOnlyMemory<byte> Data, ReadOnlyMemory<byte> Attachment) Encode(ServiceReply? reply, JsonSerializerOptions options)
    {
        return reply is null ? (Null, default) : Encode(reply.Message, reply.Attachment, "answer", options);
    }

    // Bytes come beside the message, or, from a peer without the bin capability, in its JSON (base64, as
    // System.Text.Json writes a byte[]): JSON that is not bytes throws, to be logged and counted, not read as none.
    private static ReadOnlyMemory<byte> Bytes(ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> attachment, JsonSerializerOptions options) =>
        !attachment.IsEmpty || IsNull(data) ? attachment : JsonSerializer.Deserialize<byte[]>(data.Span, options);

    private static bool IsNull(ReadOnlyMemory<byte> data) => data.IsEmpty || data.Span.SequenceEqual(Null.Span);

    public static T Decode<T>(ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> attachment, JsonSerializerOptions options)
    {
        if (typeof(T) == typeof(ServiceReply))
            throw new NotSupportedException(ReadReplyAsResponse);
        if (typeof(T) == typeof(ReadOnlyMemory<byte>))
        {
            var bytes = Bytes(data, attachment, options);
            return Unsafe.As<ReadOnlyMemory<byte>, T>(ref bytes);
        }

        if (typeof(T) == typeof(ReadOnlyMemory<byte>?))
        {
            ReadOnlyMemory<byte>? bytes = attachment.IsEmpty && IsNull(data) ? null : Bytes(data, attachment, options);
            return Unsafe.As<ReadOnlyMemory<byte>?, T>(ref bytes);
        }

        if (typeof(T) == typeof(byte[]))
            return (T)(object)Bytes(data, attachment, options).ToArray();
        if (typeof(T) == typeof(JsonElement))
        {
            var element = JsonElement.Parse(data.Span);
            return Unsafe.As<JsonElement, T>(ref element);
        }

        return JsonSerializer.Deserialize<T>(data.Span, options)!;
    }

    /// <summary>Whether <paramref name="json"/> (valid, as serialized) is an object with a top-level member named <paramref name="name"/>.</summary>
    public static bool HasTopLevelMember(ReadOnlySpan<byte> json, ReadOnlySpan<byte> name)
    {
        var reader = new Utf8JsonReader(json);
        return TopLevelMember.TryFind(ref reader, name);
    }

    // Its bytes as they were read: written again, a string escaping a lone surrogate ("\ud800", as Python writes one)
    // would throw, since System.Text.Json reads such a string but refuses to write it. Unless they are not strict JSON
    // (an element read with comments or trailing commas allowed keeps them), which no receiver takes (protocol.md 4.1):
    // those are written again.
    private static byte[] ElementBytes(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Undefined)
            return Null.ToArray();
        var raw = JsonMarshal.GetRawUtf8Value(element);
        if (IsStrict(raw))
            return raw.ToArray();
        var written = new ArrayBufferWriter<byte>(raw.Length);
        using (var writer = new Utf8JsonWriter(written))
            element.WriteTo(writer);
        return written.WrittenSpan.ToArray();
    }

    private static bool IsStrict(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        try
        {
            while (reader.Read())
            {
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
