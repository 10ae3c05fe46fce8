using System.IO.Pipelines;
using System.Text;
using MeshActors.Protocol;

namespace MeshActors.Tests.Protocol;

public sealed class AttachmentSpec
{
    private readonly EnvelopeDecoder _decoder = new();

    [Fact]
    public void An_attachment_must_join_the_envelope_that_announced_it()
    {
        Assert.Null(Decode("{\"t\":\"pub\",\"topic\":\"images\",\"bin\":5,\"data\":1}"));
        Assert.True(_decoder.AwaitsAttachment);

        var pub = Assert.IsType<Envelope.Pub>(_decoder.Decode("{\"t\":"u8));

        Assert.Equal("{\"t\":"u8.ToArray(), pub.Attachment.ToArray());
        Assert.Equal("1", Wire.Text(pub.Data));
        Assert.False(_decoder.AwaitsAttachment);
        Assert.Equal(new Envelope.Ping(1), Decode("{\"t\":\"ping\",\"n\":1}"));
    }

    [Fact]
    public void An_attachment_may_be_empty()
    {
        Assert.Null(Decode("{\"t\":\"res\",\"id\":1,\"bin\":0}"));

        var res = Assert.IsType<Envelope.Res>(_decoder.Decode(ReadOnlySpan<byte>.Empty));

        Assert.True(res.Attachment.IsEmpty);
    }

    [Fact]
    public void An_envelope_rejected_for_its_type_must_still_take_its_attachment_with_it()
    {
        Assert.Equal(ErrorCodes.UnknownType, Assert.Throws<MeshProtocolException>(() => Decode("{\"t\":\"frob\",\"bin\":3}")).Code);

        Assert.Null(Decode("{}}"));
        Assert.Equal(new Envelope.Ping(2), Decode("{\"t\":\"ping\",\"n\":2}"));
    }

    [Fact]
    public void An_envelope_rejected_for_a_field_must_still_take_its_attachment_with_it()
    {
        Assert.Equal(ErrorCodes.BadEnvelope, Assert.Throws<MeshProtocolException>(() => Decode("{\"t\":\"pub\",\"bin\":2}")).Code);

        Assert.Null(_decoder.Decode(new byte[] { 0xff, 0xfe }.AsSpan()));
        Assert.Equal(new Envelope.Ping(3), Decode("{\"t\":\"ping\",\"n\":3}"));
    }

    [Fact]
    public void An_attachment_of_the_wrong_length_must_close_the_channel()
    {
        Decode("{\"t\":\"pub\",\"topic\":\"a\",\"bin\":10}");

        var error = Assert.Throws<MeshProtocolException>(() => _decoder.Decode(new byte[9].AsSpan()));

        Assert.Equal(ErrorCodes.AttachmentMismatch, error.Code);
        Assert.True(error.ClosesChannel);
    }

    [Fact]
    public void A_stream_that_ends_before_an_announced_attachment_must_count_as_truncated()
    {
        Decode("{\"t\":\"req\",\"id\":1,\"service\":\"s\",\"bin\":4}");

        var error = Assert.Throws<TruncatedFrameException>(_decoder.Complete);

        Assert.Equal(ErrorCodes.TruncatedFrame, error.Code);
        Assert.Contains("4-byte attachment", error.Message);
    }

    [Fact]
    public void A_binary_attachment_must_travel_as_raw_bytes_in_the_frame_after_its_envelope()
    {
        byte[] png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

        var bytes = Wire.Encode(new Envelope.Pub("images", Encoding.UTF8.GetBytes("{\"name\":\"dot.png\"}")) { Attachment = png });

        var envelope = "{\"t\":\"pub\",\"topic\":\"images\",\"bin\":8,\"data\":{\"name\":\"dot.png\"}}"u8.ToArray();
        Assert.Equal([.. Wire.Frame(envelope), .. Wire.Frame(png)], bytes);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(100)]
    [InlineData(4096)]
    public async Task An_attachment_taken_as_it_arrives_must_join_its_envelope_whatever_pieces_it_comes_in(int piece)
    {
        var picture = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray();
        var wire = Wire.Encode(new Envelope.Pub("images", "{}"u8.ToArray()) { Attachment = picture }, new Envelope.Ping(1));

        var received = await ArriveAsync(wire, piece);

        Assert.Equal(2, received.Count);
        Assert.Equal(picture, Assert.IsType<Envelope.Pub>(received[0]).Attachment.ToArray());
        Assert.Equal(new Envelope.Ping(1), received[1]);
    }

    [Fact]
    public async Task The_attachment_of_a_rejected_envelope_must_be_thrown_away_as_it_arrives()
    {
        byte[] wire = [.. Wire.Frame("{\"t\":\"frob\",\"bin\":50}"), .. Wire.Frame(new byte[50]), .. Wire.Frame("{\"t\":\"ping\",\"n\":2}")];

        var rejected = new List<string>();
        var received = await ArriveAsync(wire, piece: 5, rejected: rejected);

        Assert.Equal([ErrorCodes.UnknownType], rejected);
        Assert.Equal([new Envelope.Ping(2)], received);
    }

    [Fact]
    public async Task An_attachment_longer_than_the_largest_frame_must_close_the_channel_on_its_length_prefix()
    {
        var wire = Wire.Frame("{\"t\":\"pub\",\"topic\":\"a\",\"bin\":70000}").Concat(Wire.Frame(new byte[70000])).ToArray();

        var error = await Assert.ThrowsAsync<FrameTooLargeException>(() => ArriveAsync(wire[..(wire.Length - 70000)], piece: 1, maxFrameSize: 65536));

        Assert.True(error.ClosesChannel);
    }

    [Fact]
    public async Task An_attachment_taken_as_it_arrives_must_still_be_as_long_as_announced()
    {
        var wire = Wire.Frame("{\"t\":\"pub\",\"topic\":\"a\",\"bin\":10}").Concat(Wire.Frame(new byte[9])).ToArray();

        var error = await Assert.ThrowsAsync<MeshProtocolException>(() => ArriveAsync(wire, piece: 2));

        Assert.Equal(ErrorCodes.AttachmentMismatch, error.Code);
    }

    [Fact]
    public async Task A_stream_that_ends_inside_an_attachment_must_say_how_much_of_it_arrived()
    {
        var wire = Wire.Frame("{\"t\":\"pub\",\"topic\":\"a\",\"bin\":20}").Concat(Wire.Frame(new byte[20])).ToArray();

        await ArriveAsync(wire[..^10], piece: 3);
        var error = Assert.Throws<TruncatedFrameException>(_decoder.Complete);

        Assert.Contains("10 of its 20 bytes", error.Message);
    }

    private Envelope? Decode(string json) => _decoder.Decode(Encoding.UTF8.GetBytes(json).AsSpan());

    // Writes the wire into a pipe a piece at a time and, after each piece, reads as a channel's read loop does:
    // attachments are taken as they arrive, other frames once complete.
    private async Task<List<Envelope>> ArriveAsync(byte[] wire, int piece, int maxFrameSize = ProtocolOptions.DefaultMaxFrameSize, List<string>? rejected = null)
    {
        var pipe = new Pipe();
        var received = new List<Envelope>();
        for (var offset = 0; offset < wire.Length; offset += piece)
        {
            await pipe.Writer.WriteAsync(wire.AsMemory(offset, Math.Min(piece, wire.Length - offset)));
            var read = await pipe.Reader.ReadAsync();
            var buffer = read.Buffer;
            while (true)
            {
                Envelope? envelope;
                if (_decoder.AwaitsAttachment)
                {
                    if (!_decoder.TryReadAttachment(ref buffer, maxFrameSize, out envelope))
                        break;
                }
                else if (FrameReader.TryReadFrame(ref buffer, maxFrameSize, out var payload))
                {
                    try
                    {
                        envelope = _decoder.Decode(payload);
                    }
                    catch (MeshProtocolException e) when (rejected is not null && !e.ClosesChannel)
                    {
                        rejected.Add(e.Code);
                        continue;
                    }
                }
                else
                {
                    break;
                }

                if (envelope is not null)
                    received.Add(envelope);
            }

            pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
        }

        return received;
    }
}
