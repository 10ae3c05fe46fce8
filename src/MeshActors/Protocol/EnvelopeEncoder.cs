using System.Diagnostics;
using System.Text.Json;

namespace MeshActors.Protocol;

/// <summary>Writes an envelope's JSON payload; the frame around it (length prefix, attachment frame) is <see cref="FrameWriter"/>'s job.</summary>
internal static class EnvelopeEncoder
{
    public static void Write(Utf8JsonWriter json, Envelope envelope)
    {
        switch (envelope)
        {
            case Envelope.Pub pub:
                json.WriteStartObject();
                json.WriteString(WireNames.T, WireNames.Pub);
                json.WriteString(WireNames.Topic, pub.Topic);
                WriteTrace(json, pub.Trace);
                WriteBody(json, pub.Data, pub.Attachment);
                json.WriteEndObject();
                break;
            case Envelope.Req req:
                json.WriteStartObject();
                json.WriteString(WireNames.T, WireNames.Req);
                json.WriteNumber(WireNames.Id, req.Id);
                json.WriteString(WireNames.Service, req.Service);
                if ((req.ExpiresAt != 0 ? Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), req.ExpiresAt) : req.Timeout) is { } timeout)
                {
                    json.WriteNumber(WireNames.TimeoutMs, ToWireMilliseconds(timeout));
                }

                if (req.Idempotent)
                {
                    json.WriteBoolean(WireNames.Idempotent, true);
                }

                WriteTrace(json, req.Trace);

                WriteBody(json, req.Data, req.Attachment);
                json.WriteEndObject();
                break;
            case Envelope.Res res:
                json.WriteStartObject();
                json.WriteString(WireNames.T, WireNames.Res);
                json.WriteNumber(WireNames.Id, res.Id);
                WriteBody(json, res.Data, res.Attachment);
                json.WriteEndObject();
                break;
            case Envelope.Cancel cancel:
                WriteWithNumber(json, WireNames.Cancel, WireNames.Id, cancel.Id);
                break;
            case Envelope.Ping ping:
                WriteWithNumber(json, WireNames.Ping, WireNames.N, ping.Value);
                break;
            case Envelope.Pong pong:
                WriteWithNumber(json, WireNames.Pong, WireNames.N, pong.Value);
                break;
            case Envelope.Raw raw:
                json.WriteRawValue(raw.Json.Span, skipInputValidation: true);
                break;
            case Envelope.Hello hello:
                JsonSerializer.Serialize(json, hello, ProtocolJsonContext.Default.Hello);
                break;
            case Envelope.Err err:
                JsonSerializer.Serialize(json, err, ProtocolJsonContext.Default.Err);
                break;
            case Envelope.Interest interest:
                JsonSerializer.Serialize(json, interest, ProtocolJsonContext.Default.Interest);
                break;
            case Envelope.Bye bye:
                JsonSerializer.Serialize(json, bye, ProtocolJsonContext.Default.Bye);
                break;
            default:
                throw new ArgumentException($"No encoding for {envelope.GetType().Name}.", nameof(envelope));
        }
    }

    /// <summary>The binary attachment that follows the envelope as its own frame; empty when none.</summary>
    public static ReadOnlyMemory<byte> AttachmentOf(Envelope envelope) => envelope switch
    {
        Envelope.Pub pub => pub.Attachment,
        Envelope.Req req => req.Attachment,
        Envelope.Res res => res.Attachment,
        _ => default,
    };

    /// <summary>The <c>data</c> payload, which the encoder copies as is; empty when none.</summary>
    public static ReadOnlyMemory<byte> DataOf(Envelope envelope) => envelope switch
    {
        Envelope.Pub pub => pub.Data,
        Envelope.Req req => req.Data,
        Envelope.Res res => res.Data,
        Envelope.Raw raw => raw.Json,
        _ => default,
    };

    // The data is already UTF-8 JSON from a serializer, so it is copied without a second validation pass.
    private static void WriteBody(Utf8JsonWriter json, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> attachment)
    {
        if (!attachment.IsEmpty)
        {
            json.WriteNumber(WireNames.Bin, attachment.Length);
        }

        if (!data.IsEmpty)
        {
            json.WritePropertyName(WireNames.Data);
            json.WriteRawValue(data.Span, skipInputValidation: true);
        }
    }

    private static void WriteTrace(Utf8JsonWriter json, TraceContext? trace)
    {
        if (trace is not null)
        {
            json.WriteString(WireNames.Trace, trace.Parent);
            if (trace.State is not null)
            {
                json.WriteString(WireNames.TraceState, trace.State);
            }
        }
    }

    private static void WriteWithNumber(Utf8JsonWriter json, JsonEncodedText type, JsonEncodedText name, long value)
    {
        json.WriteStartObject();
        json.WriteString(WireNames.T, type);
        json.WriteNumber(name, value);
        json.WriteEndObject();
    }

    // Whole milliseconds, rounded up so that a sub-millisecond timeout does not become "no time at all".
    private static long ToWireMilliseconds(TimeSpan timeout) =>
        Math.Clamp((long)Math.Ceiling(timeout.TotalMilliseconds), 1, int.MaxValue);
}
