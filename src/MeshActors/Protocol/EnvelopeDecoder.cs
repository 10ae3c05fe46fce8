using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.Unicode;

namespace MeshActors.Protocol;

/// <summary>Decodes the frame payloads of one v1 channel into envelopes, joining each envelope to its binary attachment.</summary>
/// <remarks>
/// One pass over the JSON with the decoder's own <see cref="JsonCursor"/> (<see cref="Utf8JsonReader"/> for unusual
/// payloads) validates it, finds <c>"t"</c> (wherever it is) and the hot fields, and notes where <c>data</c> lies;
/// <c>data</c> is then copied once, as raw JSON, for the application to deserialize.
/// <c>hello</c>, <c>err</c>, <c>interest</c> and <c>bye</c> go through source-generated deserialization instead.
/// Bad input throws <see cref="MeshProtocolException"/> with the code of docs/protocol.md, section 9.
/// One per channel direction; not thread-safe.
/// </remarks>
internal sealed partial class EnvelopeDecoder
{
    private const long MaxSafeInteger = (1L << 53) - 1;
    private static readonly byte[] JsonNull = "null"u8.ToArray();

    private readonly Utf8NameCache _names = new();

    // When >= 0, the next frame is an attachment of this length, for _awaiting (or thrown away when _awaiting is null).
    private long _attachmentLength = -1;
    private Envelope? _awaiting;

    // An attachment read as it arrives (TryReadAttachment): its length prefix was read, and this much of it.
    private bool _attachmentStarted;
    private int _attachmentReceived;
    private byte[]? _attachment;

    /// <summary>True when the next frame is the attachment an envelope announced.</summary>
    public bool AwaitsAttachment => _attachmentLength >= 0;

    /// <summary>
    /// Decodes one frame. Returns null when there is nothing to deliver yet: the envelope waits for its attachment
    /// (the next frame), the frame was an attachment being thrown away, or the frame was empty.
    /// </summary>
    /// <exception cref="MeshProtocolException">The frame is bad; <see cref="MeshProtocolException.ClosesChannel"/> says whether the channel can go on.</exception>
    public Envelope? Decode(in ReadOnlySequence<byte> payload)
    {
        if (AwaitsAttachment)
        {
            return TakeAwaiting(payload.Length) is { } envelope ? Attach(envelope, payload.ToArray()) : null;
        }

        if (payload.IsSingleSegment)
        {
            return Decode(payload.FirstSpan);
        }

        // A frame straddling buffer segments (a few in a thousand small frames) is parsed from one contiguous copy.
        var length = (int)payload.Length;
        var contiguous = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            payload.CopyTo(contiguous);
            return Decode(contiguous.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(contiguous);
        }
    }

    /// <inheritdoc cref="Decode(in ReadOnlySequence{byte})"/>
    public Envelope? Decode(ReadOnlySpan<byte> payload)
    {
        if (AwaitsAttachment)
        {
            return TakeAwaiting(payload.Length) is { } envelope ? Attach(envelope, payload.ToArray()) : null;
        }

        if (payload.IsEmpty)
        {
            return null;
        }

        var fields = Scan(payload);
        return fields.Type switch
        {
            FrameType.None => new Envelope.Raw(payload.ToArray()),
            FrameType.Pub => DecodePub(payload, ref fields),
            FrameType.Req => DecodeReq(payload, ref fields),
            FrameType.Res => DecodeRes(payload, ref fields),
            FrameType.Cancel => new Envelope.Cancel(Require(ref fields, Field.Id).Id),
            FrameType.Ping => new Envelope.Ping(Require(ref fields, Field.N).N),
            FrameType.Pong => new Envelope.Pong(Require(ref fields, Field.N).N),
            FrameType.Hello => DecodeHello(payload, ref fields),
            FrameType.Err => DecodeErr(payload),
            FrameType.Interest => DecodeInterest(payload),
            FrameType.Bye => Deserialize(payload, ProtocolJsonContext.Default.Bye),
            FrameType.Unknown => throw Reject(ref fields, new MeshProtocolException(ErrorCodes.UnknownType,
                $"Unknown frame type '{Shorten(fields.UnknownType)}'.")),
            _ => throw Reject(ref fields, BadEnvelope("'t' must be a string.")),
        };
    }

    /// <summary>
    /// Takes the attachment frame that the previous envelope announced off the front of <paramref name="buffer"/>, as
    /// far as it has arrived: its bytes are copied into the attachment as they come, so that a large attachment is
    /// neither held in the receive buffer until it is complete nor copied out of it in one cold pass. Call while
    /// <see cref="AwaitsAttachment"/>; returns true once the frame is complete, with the envelope that announced it
    /// (null when it was rejected and its attachment thrown away), false when what has arrived is taken and more is needed.
    /// </summary>
    /// <exception cref="MeshProtocolException">The frame is larger than <paramref name="maxFrameSize"/> or not as long as announced: framing is lost.</exception>
    public bool TryReadAttachment(ref ReadOnlySequence<byte> buffer, int maxFrameSize, out Envelope? envelope)
    {
        envelope = null;
        if (!_attachmentStarted)
        {
            if (!FrameReader.TryReadLength(ref buffer, maxFrameSize, out var length))
            {
                return false;
            }

            ExpectAttachmentOf(length);
            _attachmentStarted = true;
            _attachmentReceived = 0;
            // Uninitialized: every byte is written before anyone reads it.
            _attachment = _awaiting is null ? null : GC.AllocateUninitializedArray<byte>((int)length);
        }

        var taken = buffer.Slice(0, Math.Min(_attachmentLength - _attachmentReceived, buffer.Length));
        if (_attachment is not null)
        {
            taken.CopyTo(_attachment.AsSpan(_attachmentReceived));
        }

        _attachmentReceived += (int)taken.Length;
        buffer = buffer.Slice(taken.End);
        if (_attachmentReceived < _attachmentLength)
        {
            return false;
        }

        envelope = _awaiting is { } announced ? Attach(announced, _attachment!) : null;
        ForgetAttachment();
        return true;
    }

    /// <summary>Decodes a frame of a plain (Marketrix) channel, where every frame is an application message; null for an empty frame.</summary>
    /// <exception cref="MeshProtocolException">With <see cref="ErrorCodes.BadJson"/> when the payload is not UTF-8 JSON.</exception>
    public static Envelope.Raw? DecodeRaw(in ReadOnlySequence<byte> payload)
    {
        if (payload.IsEmpty)
        {
            return null;
        }

        var json = payload.ToArray();
        EnsureUtf8(json);
        try
        {
            var reader = new Utf8JsonReader(json, WireProtocol.FrameReading);
            reader.Read();
            reader.Skip();
            EnsureEnd(ref reader);
        }
        catch (JsonException e)
        {
            throw BadJson(e);
        }

        return new Envelope.Raw(json);
    }

    /// <summary>Call when the stream has ended cleanly: throws when it ended before an announced attachment.</summary>
    /// <exception cref="TruncatedFrameException">An envelope announced an attachment that never came.</exception>
    public void Complete()
    {
        if (AwaitsAttachment)
        {
            throw new TruncatedFrameException(_attachmentStarted
                ? $"The stream ended inside an attachment: {_attachmentReceived} of its {_attachmentLength} bytes arrived."
                : $"The stream ended before the {_attachmentLength}-byte attachment announced by the frame before.");
        }
    }

    private Envelope.Pub? DecodePub(ReadOnlySpan<byte> payload, ref Fields fields)
    {
        Require(ref fields, Field.Topic, Field.Data | Field.Bin);
        return AwaitAttachment(new Envelope.Pub(fields.Topic!, CopyData(payload, ref fields)) { Trace = fields.TraceContext }, ref fields);
    }

    private Envelope.Req? DecodeReq(ReadOnlySpan<byte> payload, ref Fields fields)
    {
        Require(ref fields, Field.Id | Field.Service, Field.TimeoutMs | Field.Idempotent | Field.Data | Field.Bin);
        var req = new Envelope.Req(fields.Id, fields.Service!, CopyData(payload, ref fields))
        {
            Timeout = fields.Has(Field.TimeoutMs) ? TimeSpan.FromMilliseconds(fields.TimeoutMs) : null,
            Idempotent = fields.Has(Field.Idempotent) && fields.Idempotent,
            Trace = fields.TraceContext,
        };
        return AwaitAttachment(req, ref fields);
    }

    private Envelope.Res? DecodeRes(ReadOnlySpan<byte> payload, ref Fields fields)
    {
        Require(ref fields, Field.Id, Field.Data | Field.Bin);
        return AwaitAttachment(new Envelope.Res(fields.Id, CopyData(payload, ref fields)), ref fields);
    }

    private Envelope.Hello DecodeHello(ReadOnlySpan<byte> payload, ref Fields fields)
    {
        Require(ref fields, Field.V);
        if (fields.V != WireProtocol.Version)
        {
            throw new MeshProtocolException(ErrorCodes.UnsupportedVersion,
                $"The peer speaks protocol version {fields.V}; this node speaks version {WireProtocol.Version}.");
        }

        var hello = Deserialize(payload, ProtocolJsonContext.Default.Hello);
        if (hello.NodeId.Length == 0 || hello.Name.Length == 0 || hello.MaxFrameSize < ProtocolOptions.SmallestMaxFrameSize
            || hello.Capabilities.Any(c => c is null))
        {
            throw BadEnvelope("A hello needs a non-empty 'node' and 'name', 'caps' of strings and a 'max_frame' of at least 65536.");
        }

        return hello;
    }

    private static Envelope.Err DecodeErr(ReadOnlySpan<byte> payload)
    {
        var err = Deserialize(payload, ProtocolJsonContext.Default.Err);
        return err.Id is null or (>= 1 and <= MaxSafeInteger) ? err : throw BadEnvelope("'id' must be an integer from 1 to 2^53-1.");
    }

    private static Envelope.Interest DecodeInterest(ReadOnlySpan<byte> payload)
    {
        var interest = Deserialize(payload, ProtocolJsonContext.Default.Interest);
        if (interest.Version is < 1 or > MaxSafeInteger || interest.Topics.Any(t => t is null) || interest.Services.Any(s => s is null))
        {
            throw BadEnvelope("An interest needs a 'ver' from 1 to 2^53-1 and 'topics' and 'services' of strings.");
        }

        return interest;
    }

    /// <summary>
    /// The object <paramref name="payload"/> with each repeated member's last occurrence only, and without the members
    /// whose names escape a lone surrogate (no member of the protocol is named so: unknown, they are ignored, 4.1); null
    /// when there are none of either or it is no JSON object. Values are copied as they came, never unescaped.
    /// </summary>
    private static byte[]? WithoutReplacedMembers(ReadOnlySpan<byte> payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload.ToArray(), new JsonDocumentOptions { MaxDepth = WireProtocol.MaxDepth });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return null;
            var members = 0;
            var last = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var member in document.RootElement.EnumerateObject())
            {
                members++;
                if (ReadableName(member) is { } name)
                    last[name] = member.Value;
            }

            if (last.Count == members)
                return null;
            var buffer = new ArrayBufferWriter<byte>(payload.Length);
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                foreach (var (name, value) in last)
                {
                    writer.WritePropertyName(name);
                    writer.WriteRawValue(value.GetRawText(), skipInputValidation: true);
                }

                writer.WriteEndObject();
            }

            return buffer.WrittenSpan.ToArray();
        }
        catch (JsonException)
        {
            return null;
        }

        static string? ReadableName(JsonProperty member)
        {
            try
            {
                return member.Name;
            }
            catch (InvalidOperationException)
            {
                return null;
            }
        }
    }

    private static T Deserialize<T>(ReadOnlySpan<byte> payload, JsonTypeInfo<T> typeInfo)
    {
        try
        {
            try
            {
                return JsonSerializer.Deserialize(payload, typeInfo)!;
            }
            catch (JsonException) when (WithoutReplacedMembers(payload) is { } lastOnes)
            {
                // docs/protocol.md 4.1: of a repeated member the last one wins, but the serializer converts each one as
                // it reads it, and fails the frame on an earlier value it cannot take. Rare frames: read them again.
                return JsonSerializer.Deserialize(lastOnes, typeInfo)!;
            }
        }
        catch (JsonException e)
        {
            throw BadEnvelope($"A '{typeInfo.Type.Name.ToLowerInvariant()}' frame is malformed: {e.Message}");
        }
    }

    private T? AwaitAttachment<T>(T envelope, ref Fields fields)
        where T : Envelope
    {
        if (!fields.Has(Field.Bin))
        {
            return envelope;
        }

        _attachmentLength = fields.Bin;
        _awaiting = envelope;
        return null;
    }

    // The envelope the attachment frame of this length belongs to; null when it is to be thrown away.
    private Envelope? TakeAwaiting(long length)
    {
        ExpectAttachmentOf(length);
        var envelope = _awaiting;
        ForgetAttachment();
        return envelope;
    }

    private void ExpectAttachmentOf(long length)
    {
        if (length != _attachmentLength)
        {
            var expected = _attachmentLength;
            ForgetAttachment();
            throw new MeshProtocolException(ErrorCodes.AttachmentMismatch,
                $"The previous frame announced a {expected}-byte attachment; the next frame has {length} bytes.");
        }
    }

    private void ForgetAttachment()
    {
        _attachmentLength = -1;
        _awaiting = null;
        _attachmentStarted = false;
        _attachment = null;
    }

    private static Envelope Attach(Envelope envelope, byte[] attachment) => envelope switch
    {
        Envelope.Pub pub => pub with { Attachment = attachment },
        Envelope.Req req => req with { Attachment = attachment },
        Envelope.Res res => res with { Attachment = attachment },
        _ => throw new InvalidOperationException($"A '{envelope.Type}' frame has no attachment."),
    };

    // A rejected envelope that announced an attachment still owns the next frame: it is thrown away so that framing holds.
    private MeshProtocolException Reject(ref Fields fields, MeshProtocolException exception)
    {
        if (fields.Has(Field.Bin))
        {
            _attachmentLength = fields.Bin;
            _awaiting = null;
        }

        return exception;
    }

    private ref Fields Require(ref Fields fields, Field required, Field optional = Field.None)
    {
        var missing = required & ~fields.Present;
        var invalid = (required | optional) & fields.Invalid;
        if (missing != Field.None || invalid != Field.None)
        {
            throw Reject(ref fields, new MeshProtocolException(ErrorCodes.BadEnvelope, Describe(fields.Type, missing, invalid))
            {
                RequestId = fields.Type == FrameType.Req && fields.Has(Field.Id) ? fields.Id : null,
            });
        }

        return ref fields;
    }

    private static ReadOnlyMemory<byte> CopyData(ReadOnlySpan<byte> payload, ref Fields fields) =>
        fields.Has(Field.Data) ? payload.Slice(fields.DataStart, fields.DataLength).ToArray() : JsonNull;

    private static void EnsureUtf8(ReadOnlySpan<byte> payload)
    {
        if (!Utf8.IsValid(payload))
        {
            throw new MeshProtocolException(ErrorCodes.BadJson, "The payload is not valid UTF-8.");
        }
    }

    private static MeshProtocolException BadJson(JsonException e) =>
        new(ErrorCodes.BadJson, $"The payload is not valid JSON: {e.Message}", e);

    private static MeshProtocolException BadEnvelope(string message) => new(ErrorCodes.BadEnvelope, message);

    private static string Describe(FrameType type, Field missing, Field invalid)
    {
        var name = type.ToString().ToLowerInvariant();
        return missing != Field.None
            ? $"A '{name}' frame needs {Expectation(LowestField(missing))}."
            : $"In a '{name}' frame, {Expectation(LowestField(invalid))}.";
    }

    private static Field LowestField(Field fields) => (Field)((int)fields & -(int)fields);

    private static string Expectation(Field field) => field switch
    {
        Field.Topic => "'topic' as a non-empty string",
        Field.Service => "'service' as a non-empty string",
        Field.Id => "'id' as an integer from 1 to 2^53-1",
        Field.N => "'n' as an integer from 0 to 2^53-1",
        Field.Bin => "'bin' as an integer from 0 to 2^31-1",
        Field.TimeoutMs => "'timeout_ms' as an integer from 1 to 2^31-1",
        Field.Idempotent => "'idempotent' as true or false",
        Field.V => "'v' as an integer",
        _ => $"'{field.ToString().ToLowerInvariant()}'",
    };

    private static string? Shorten(string? text) => text is { Length: > 64 } ? text[..64] + "..." : text;
}
