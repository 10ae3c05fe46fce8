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

    private Envelope? Decode(string json) => _decoder.Decode(Encoding.UTF8.GetBytes(json).AsSpan());
}
