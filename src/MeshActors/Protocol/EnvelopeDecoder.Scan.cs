using System.Text.Json;

namespace MeshActors.Protocol;

/// <summary>The one pass over a payload's JSON that finds the frame type and the hot fields.</summary>
internal sealed partial class EnvelopeDecoder
{
    private Fields Scan(ReadOnlySpan<byte> payload)
    {
        EnsureUtf8(payload);
        var fields = default(Fields);
        try
        {
            var reader = new Utf8JsonReader(payload);
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                EnsureEnd(ref reader);
                return fields;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var field = Identify(ref reader);
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
        switch (field)
        {
            case Field.T when reader.TokenType == JsonTokenType.String:
                fields.Type = IdentifyType(ref reader, ref fields);
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
            default:
                reader.Skip();
                break;
        }
    }

    private static Field Identify(ref Utf8JsonReader reader) => Unescaped(reader, stackalloc byte[64]) switch
    {
        [(byte)'t'] => Field.T,
        [(byte)'n'] => Field.N,
        [(byte)'v'] => Field.V,
        var name when name.SequenceEqual("data"u8) => Field.Data,
        var name when name.SequenceEqual("topic"u8) => Field.Topic,
        var name when name.SequenceEqual("id"u8) => Field.Id,
        var name when name.SequenceEqual("service"u8) => Field.Service,
        var name when name.SequenceEqual("bin"u8) => Field.Bin,
        var name when name.SequenceEqual("timeout_ms"u8) => Field.TimeoutMs,
        var name when name.SequenceEqual("idempotent"u8) => Field.Idempotent,
        _ => Field.None,
    };

    private static FrameType IdentifyType(ref Utf8JsonReader reader, ref Fields fields)
    {
        var type = Unescaped(reader, stackalloc byte[64]) switch
        {
            var name when name.SequenceEqual("pub"u8) => FrameType.Pub,
            var name when name.SequenceEqual("req"u8) => FrameType.Req,
            var name when name.SequenceEqual("res"u8) => FrameType.Res,
            var name when name.SequenceEqual("ping"u8) => FrameType.Ping,
            var name when name.SequenceEqual("pong"u8) => FrameType.Pong,
            var name when name.SequenceEqual("interest"u8) => FrameType.Interest,
            var name when name.SequenceEqual("cancel"u8) => FrameType.Cancel,
            var name when name.SequenceEqual("err"u8) => FrameType.Err,
            var name when name.SequenceEqual("hello"u8) => FrameType.Hello,
            var name when name.SequenceEqual("bye"u8) => FrameType.Bye,
            _ => FrameType.Unknown,
        };
        if (type == FrameType.Unknown)
        {
            fields.UnknownType = reader.GetString();
        }

        return type;
    }

    // The name or string under the reader as UTF-8 without escapes. Empty when its escaped form does not fit in
    // scratch: unescaping shrinks text at most sixfold, and no name matched here is longer than scratch.Length / 6.
    private static ReadOnlySpan<byte> Unescaped(scoped in Utf8JsonReader reader, Span<byte> scratch)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.ValueSpan;
        }

        return reader.ValueSpan.Length <= scratch.Length ? scratch[..reader.CopyString(scratch)] : [];
    }

    private string? ReadName(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return null;
        }

        return reader.ValueIsEscaped ? reader.GetString() : _names.Get(reader.ValueSpan);
    }

    private static bool TryReadInteger(ref Utf8JsonReader reader, long min, long max, out long value)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out value) && value >= min && value <= max)
        {
            return true;
        }

        reader.Skip();
        value = 0;
        return false;
    }

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
    }

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
        public int DataStart;
        public int DataLength;

        public readonly bool Has(Field field) => (Present & ~Invalid & field) != 0;

        // A repeated member replaces the earlier one, validity included (docs/protocol.md 4.1: the last one wins).
        public void Set(Field field, bool valid)
        {
            Present |= field;
            Invalid = valid ? Invalid & ~field : Invalid | field;
        }
    }
}
