using System.Buffers.Text;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace MeshActors.Protocol;

/// <summary>The one pass over a payload's JSON that finds the frame type and the hot fields.</summary>
/// <remarks>
/// The decoder's own <see cref="JsonCursor"/> reads the envelopes peers write: an object whose member names, <c>t</c>,
/// <c>topic</c> and <c>service</c> have no escapes. Anything else (escapes there, a payload that is not an object,
/// invalid JSON) is read again with <see cref="Utf8JsonReader"/>, whose answer stands, errors and their messages included;
/// both passes apply the same rules, so the fast one only saves time.
/// </remarks>
internal sealed partial class EnvelopeDecoder
{
    // 2 hex digits of version + "-" + 32 of trace id + "-" + 16 of span id + "-" + 2 of flags.
    private const int TraceParentLength = 55;
    private const int TraceStateMaxLength = 512;

    private Fields Scan(ReadOnlySpan<byte> payload)
    {
        EnsureUtf8(payload);
        return TryScan(payload, out var fields) ? fields : ScanWithReader(payload);
    }

    // False when the payload is one for the reader to judge; fields is then incomplete.
    private bool TryScan(ReadOnlySpan<byte> payload, out Fields fields)
    {
        fields = default;
        var json = new JsonCursor(payload);
        if (!json.TryRead((byte)'{'))
        {
            return false;
        }

        if (!json.TryRead((byte)'}'))
        {
            do
            {
                if (!json.TryReadName(out var name) || !TryReadField(ref json, Identify(name), ref fields))
                {
                    return false;
                }
            }
            while (json.TryRead((byte)','));

            if (!json.TryRead((byte)'}'))
            {
                return false;
            }
        }

        return json.AtEnd();
    }

    // The cursor's twin of ReadField; false when the value is not valid JSON or its text is escaped where it matters.
    private bool TryReadField(ref JsonCursor json, Field field, ref Fields fields)
    {
        if (!json.TryReadValue(out var value) || (json.ValueIsEscaped && field is Field.T or Field.Topic or Field.Service))
        {
            return false;
        }

        if ((field & NullableFields) != 0 && value.SequenceEqual("null"u8))
        {
            fields.Forget(field);
            return true;
        }

        switch (field)
        {
            case Field.T when value is [(byte)'"', .. var type, _]:
                fields.Type = IdentifyType(type);
                fields.UnknownType = fields.Type == FrameType.Unknown ? Encoding.UTF8.GetString(type) : null;
                break;
            case Field.T:
                fields.Type = FrameType.Invalid;
                break;
            case Field.Data:
                fields.DataStart = json.Position - value.Length;
                fields.DataLength = value.Length;
                fields.Set(Field.Data, valid: true);
                break;
            case Field.Topic:
                fields.Topic = value is [(byte)'"', .. var topic, _] ? _names.Get(topic) : null;
                fields.Set(Field.Topic, fields.Topic is { Length: > 0 });
                break;
            case Field.Service:
                fields.Service = value is [(byte)'"', .. var service, _] ? _names.Get(service) : null;
                fields.Set(Field.Service, fields.Service is { Length: > 0 });
                break;
            case Field.Id:
                fields.Set(Field.Id, TryParseInteger(value, 1, MaxSafeInteger, out fields.Id));
                break;
            case Field.N:
                fields.Set(Field.N, TryParseInteger(value, 0, MaxSafeInteger, out fields.N));
                break;
            case Field.Bin:
                fields.Set(Field.Bin, TryParseInteger(value, 0, int.MaxValue, out fields.Bin));
                break;
            case Field.TimeoutMs:
                fields.Set(Field.TimeoutMs, TryParseInteger(value, 1, int.MaxValue, out fields.TimeoutMs));
                break;
            case Field.V:
                fields.Set(Field.V, TryParseInteger(value, int.MinValue, int.MaxValue, out fields.V));
                break;
            case Field.Idempotent:
                fields.Idempotent = value.SequenceEqual("true"u8);
                fields.Set(Field.Idempotent, fields.Idempotent || value.SequenceEqual("false"u8));
                break;
            case Field.Trace:
                fields.Trace = value is [(byte)'"', .. var trace, _] && !json.ValueIsEscaped ? TraceOrNull(trace) : null;
                break;
            case Field.TraceState:
                fields.TraceState = value is [(byte)'"', .. var state, _] && !json.ValueIsEscaped ? TraceStateOrNull(state) : null;
                break;
        }

        return true;
    }

    private Fields ScanWithReader(ReadOnlySpan<byte> payload)
    {
        var fields = default(Fields);
        try
        {
            var reader = new Utf8JsonReader(payload, WireProtocol.FrameReading);
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                EnsureEnd(ref reader);
                return fields;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var field = Identify(reader);
                reader.Read();
                ReadField(ref reader, field, ref fields);
            }

            EnsureEnd(ref reader);
        }
        catch (JsonException e)
        {
            throw BadJson(e);
        }

        return fields;
    }

    private void ReadField(ref Utf8JsonReader reader, Field field, ref Fields fields)
    {
        if ((field & NullableFields) != 0 && reader.TokenType == JsonTokenType.Null)
        {
            fields.Forget(field);
            return;
        }

        switch (field)
        {
            case Field.T when reader.TokenType == JsonTokenType.String:
                fields.Type = IdentifyType(Unescaped(reader, stackalloc byte[64]));
                fields.UnknownType = fields.Type == FrameType.Unknown ? StringOrNull(reader) ?? Encoding.UTF8.GetString(reader.ValueSpan) : null;
                break;
            case Field.T:
                fields.Type = FrameType.Invalid;
                reader.Skip();
                break;
            case Field.Data:
                fields.DataStart = (int)reader.TokenStartIndex;
                reader.Skip();
                fields.DataLength = (int)reader.BytesConsumed - fields.DataStart;
                fields.Set(Field.Data, valid: true);
                break;
            case Field.Topic:
                fields.Topic = ReadName(ref reader);
                fields.Set(Field.Topic, fields.Topic is { Length: > 0 });
                break;
            case Field.Service:
                fields.Service = ReadName(ref reader);
                fields.Set(Field.Service, fields.Service is { Length: > 0 });
                break;
            case Field.Id:
                fields.Set(Field.Id, TryReadInteger(ref reader, 1, MaxSafeInteger, out fields.Id));
                break;
            case Field.N:
                fields.Set(Field.N, TryReadInteger(ref reader, 0, MaxSafeInteger, out fields.N));
                break;
            case Field.Bin:
                fields.Set(Field.Bin, TryReadInteger(ref reader, 0, int.MaxValue, out fields.Bin));
                break;
            case Field.TimeoutMs:
                fields.Set(Field.TimeoutMs, TryReadInteger(ref reader, 1, int.MaxValue, out fields.TimeoutMs));
                break;
            case Field.V:
                fields.Set(Field.V, TryReadInteger(ref reader, int.MinValue, int.MaxValue, out fields.V));
                break;
            case Field.Idempotent:
                fields.Idempotent = reader.TokenType == JsonTokenType.True;
                fields.Set(Field.Idempotent, reader.TokenType is JsonTokenType.True or JsonTokenType.False);
                reader.Skip();
                break;
            case Field.Trace:
                fields.Trace = reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped ? TraceOrNull(reader.ValueSpan) : null;
                reader.Skip();
                break;
            case Field.TraceState:
                fields.TraceState = reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped ? TraceStateOrNull(reader.ValueSpan) : null;
                reader.Skip();
                break;
            default:
                reader.Skip();
                break;
        }
    }

    private static Field Identify(scoped in Utf8JsonReader reader) => Identify(Unescaped(reader, stackalloc byte[64]));

    private static Field Identify(ReadOnlySpan<byte> name) => name switch
    {
        [(byte)'t'] => Field.T,
        [(byte)'n'] => Field.N,
        [(byte)'v'] => Field.V,
        _ when name.SequenceEqual("data"u8) => Field.Data,
        _ when name.SequenceEqual("topic"u8) => Field.Topic,
        _ when name.SequenceEqual("id"u8) => Field.Id,
        _ when name.SequenceEqual("service"u8) => Field.Service,
        _ when name.SequenceEqual("bin"u8) => Field.Bin,
        _ when name.SequenceEqual("timeout_ms"u8) => Field.TimeoutMs,
        _ when name.SequenceEqual("idempotent"u8) => Field.Idempotent,
        _ when name.SequenceEqual("trace"u8) => Field.Trace,
        _ when name.SequenceEqual("tracestate"u8) => Field.TraceState,
        _ => Field.None,
    };

    private static FrameType IdentifyType(ReadOnlySpan<byte> type) => type switch
    {
        _ when type.SequenceEqual("pub"u8) => FrameType.Pub,
        _ when type.SequenceEqual("req"u8) => FrameType.Req,
        _ when type.SequenceEqual("res"u8) => FrameType.Res,
        _ when type.SequenceEqual("ping"u8) => FrameType.Ping,
        _ when type.SequenceEqual("pong"u8) => FrameType.Pong,
        _ when type.SequenceEqual("interest"u8) => FrameType.Interest,
        _ when type.SequenceEqual("cancel"u8) => FrameType.Cancel,
        _ when type.SequenceEqual("err"u8) => FrameType.Err,
        _ when type.SequenceEqual("hello"u8) => FrameType.Hello,
        _ when type.SequenceEqual("bye"u8) => FrameType.Bye,
        _ => FrameType.Unknown,
    };

    // The name or string under the reader as UTF-8 without escapes. Empty when its escaped form does not fit in
    // scratch: unescaping shrinks text at most sixfold, and no name matched here is longer than scratch.Length / 6.
    private static ReadOnlySpan<byte> Unescaped(scoped in Utf8JsonReader reader, Span<byte> scratch)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.ValueSpan;
        }

        if (reader.ValueSpan.Length > scratch.Length)
        {
            return [];
        }

        try
        {
            return scratch[..reader.CopyString(scratch)];
        }
        catch (InvalidOperationException)
        {
            return []; // an escaped lone surrogate: see StringOrNull
        }
    }

    // An escaped lone surrogate (\ud800) is valid JSON but no text: such a string names nothing, and a field holding
    // it is invalid, rather than the reader's InvalidOperationException aborting the channel.
    private static string? StringOrNull(scoped in Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private string? ReadName(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return null;
        }

        return reader.ValueIsEscaped ? StringOrNull(reader) : _names.Get(reader.ValueSpan);
    }

    // Tracing context is advisory (docs/protocol.md 5.2): a value that is not a W3C traceparent is ignored, not an error.
    private static string? TraceOrNull(ReadOnlySpan<byte> traceparent)
    {
        // ActivityContext.TryParse checks the version and the hex, not the dashes between them.
        if (traceparent.Length != TraceParentLength || traceparent[2] != '-' || traceparent[35] != '-' || traceparent[52] != '-')
        {
            return null;
        }

        var text = Encoding.ASCII.GetString(traceparent);
        return ActivityContext.TryParse(text, null, out _) ? text : null;
    }

    // Vendors' opaque entries (W3C: at most 32 of them, 512 characters in all, printable ASCII); anything else is ignored.
    private static string? TraceStateOrNull(ReadOnlySpan<byte> tracestate) =>
        tracestate.Length is > 0 and <= TraceStateMaxLength && !tracestate.ContainsAnyExceptInRange((byte)0x20, (byte)0x7E)
            ? Encoding.ASCII.GetString(tracestate)
            : null;

    private static bool TryReadInteger(ref Utf8JsonReader reader, long min, long max, out long value)
    {
        if (reader.TokenType == JsonTokenType.Number && TryParseInteger(reader.ValueSpan, min, max, out value))
        {
            return true;
        }

        reader.Skip();
        value = 0;
        return false;
    }

    // What Utf8JsonReader.TryGetInt64 accepts: the whole number as a long, so no fraction or exponent, even 1.0 or 1e3.
    private static bool TryParseInteger(ReadOnlySpan<byte> number, long min, long max, out long value) =>
        Utf8Parser.TryParse(number, out value, out var length) && length == number.Length && value >= min && value <= max;

    private static void EnsureEnd(ref Utf8JsonReader reader)
    {
        // With the whole payload as the final block, a further Read throws on anything but trailing whitespace.
        if (reader.Read())
        {
            throw new JsonException("There is more after the JSON value.");
        }
    }

    private enum FrameType : byte
    {
        None,
        Invalid,
        Unknown,
        Hello,
        Pub,
        Req,
        Res,
        Err,
        Cancel,
        Interest,
        Ping,
        Pong,
        Bye,
    }

    [Flags]
    private enum Field
    {
        None = 0,
        T = 1,
        Topic = 1 << 1,
        Service = 1 << 2,
        Id = 1 << 3,
        N = 1 << 4,
        V = 1 << 5,
        Bin = 1 << 6,
        TimeoutMs = 1 << 7,
        Idempotent = 1 << 8,
        Data = 1 << 9,
        Trace = 1 << 10,
        TraceState = 1 << 11,
    }

    // A member whose value is null counts as absent (docs/protocol.md 4.1), as Python's None and JavaScript's null
    // serialize; not "t", whose null makes the frame a bad envelope, nor "data", where null is the value.
    private const Field NullableFields = Field.Topic | Field.Service | Field.Id | Field.N | Field.V | Field.Bin | Field.TimeoutMs | Field.Idempotent;

    /// <summary>What one pass over a payload found; a field's validity is judged only once the type says whether it matters.</summary>
    private struct Fields
    {
        public FrameType Type;
        public Field Present;
        public Field Invalid;
        public long Id;
        public long N;
        public long V;
        public long Bin;
        public long TimeoutMs;
        public bool Idempotent;
        public string? Topic;
        public string? Service;
        public string? UnknownType;
        public string? Trace;
        public string? TraceState;
        public int DataStart;
        public int DataLength;

        public readonly bool Has(Field field) => (Present & ~Invalid & field) != 0;

        // A tracestate means nothing without the traceparent it belongs to.
        public readonly TraceContext? TraceContext => Trace is null ? null : new(Trace, TraceState);

        // A repeated member replaces the earlier one, validity included (docs/protocol.md 4.1: the last one wins).
        public void Set(Field field, bool valid)
        {
            Present |= field;
            Invalid = valid ? Invalid & ~field : Invalid | field;
        }

        public void Forget(Field field)
        {
            Present &= ~field;
            Invalid &= ~field;
        }
    }
}
