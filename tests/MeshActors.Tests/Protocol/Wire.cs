using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using MeshActors.Protocol;

namespace MeshActors.Tests.Protocol;

/// <summary>Encodes envelopes to bytes and back through the real writer, reader and decoder.</summary>
internal static class Wire
{
    /// <summary>A writer whose peer accepts attachments, as after a v1 handshake.</summary>
    public static readonly Envelope.Hello PeerHello = new("peer-node", "peer") { Capabilities = [WireProtocol.BinaryCapability] };

    /// <summary>The bytes a <see cref="FrameWriter"/> puts on the wire for <paramref name="envelopes"/>.</summary>
    public static byte[] Encode(params Envelope[] envelopes)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var writer = new FrameWriter(pipe.Writer);
        writer.ApplyPeerHello(PeerHello);
        foreach (var envelope in envelopes)
        {
            writer.Write(envelope);
        }

        writer.Commit();
        return Drain(pipe);
    }

    /// <summary>Everything written and committed to <paramref name="pipe"/> so far.</summary>
    public static byte[] Drain(Pipe pipe)
    {
        // The pipe never pauses its writer, so the flush completes at once.
        Assert.True(pipe.Writer.FlushAsync().IsCompletedSuccessfully);
        if (!pipe.Reader.TryRead(out var result))
        {
            return [];
        }

        var bytes = result.Buffer.ToArray();
        pipe.Reader.AdvanceTo(result.Buffer.End);
        return bytes;
    }

    /// <summary>One frame: the big-endian length, then <paramref name="payload"/>.</summary>
    public static byte[] Frame(byte[] payload) =>
        [(byte)(payload.Length >> 24), (byte)(payload.Length >> 16), (byte)(payload.Length >> 8), (byte)payload.Length, .. payload];

    /// <summary>One frame holding the UTF-8 of <paramref name="json"/>.</summary>
    public static byte[] Frame(string json) => Frame(Encoding.UTF8.GetBytes(json));

    /// <summary>Reads every frame of <paramref name="bytes"/> and decodes it; the envelopes that came out, in order.</summary>
    public static List<Envelope> Decode(ReadOnlySequence<byte> bytes, EnvelopeDecoder? decoder = null)
    {
        decoder ??= new EnvelopeDecoder();
        var envelopes = new List<Envelope>();
        while (FrameReader.TryReadFrame(ref bytes, ProtocolOptions.DefaultMaxFrameSize, out var payload))
        {
            if (decoder.Decode(payload) is { } envelope)
            {
                envelopes.Add(envelope);
            }
        }

        FrameReader.EnsureNothingLeft(bytes);
        decoder.Complete();
        return envelopes;
    }

    /// <inheritdoc cref="Decode(ReadOnlySequence{byte}, EnvelopeDecoder?)"/>
    public static List<Envelope> Decode(byte[] bytes, EnvelopeDecoder? decoder = null) => Decode(new ReadOnlySequence<byte>(bytes), decoder);

    /// <summary>Reads frames from <paramref name="input"/> the way a channel does, until the writer completes; their payloads, in order.</summary>
    public static async Task<List<byte[]>> ReadPayloadsAsync(PipeReader input, int maxFrameSize = ProtocolOptions.DefaultMaxFrameSize)
    {
        var payloads = new List<byte[]>();
        while (true)
        {
            var result = await input.ReadAsync();
            var buffer = result.Buffer;
            while (FrameReader.TryReadFrame(ref buffer, maxFrameSize, out var payload))
            {
                payloads.Add(payload.ToArray());
            }

            if (result.IsCompleted)
            {
                FrameReader.EnsureNothingLeft(buffer);
                return payloads;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>A text form of an envelope that compares payload bytes by content.</summary>
    public static string Describe(Envelope envelope) => envelope switch
    {
        Envelope.Hello h => $"hello v={h.Version} node={h.NodeId} name={h.Name} caps=[{string.Join(",", h.Capabilities)}] max={h.MaxFrameSize}",
        Envelope.Pub p => $"pub topic={p.Topic} data={Text(p.Data)} att={Hex(p.Attachment)} trace={p.Trace}",
        Envelope.Req r => $"req id={r.Id} service={r.Service} timeout={r.Timeout} idem={r.Idempotent} data={Text(r.Data)} att={Hex(r.Attachment)} trace={r.Trace}",
        Envelope.Res r => $"res id={r.Id} data={Text(r.Data)} att={Hex(r.Attachment)}",
        Envelope.Interest i => $"interest ver={i.Version} topics=[{string.Join(",", i.Topics)}] services=[{string.Join(",", i.Services)}]",
        Envelope.Raw r => $"raw {Text(r.Json)}",
        _ => envelope.ToString(),
    };

    public static string Text(ReadOnlyMemory<byte> utf8) => Encoding.UTF8.GetString(utf8.Span);

    private static string Hex(ReadOnlyMemory<byte> bytes) => Convert.ToHexString(bytes.Span);
}
