using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using MeshActors.Protocol;

namespace MeshActors.Tests.Protocol;

public sealed class FrameWriterSpec
{
    private readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: 0));
    private readonly CountingPipeWriter _output;
    private readonly FrameWriter _writer;

    public FrameWriterSpec()
    {
        _output = new CountingPipeWriter(_pipe.Writer);
        _writer = new FrameWriter(_output);
        _writer.ApplyPeerHello(Wire.PeerHello);
    }

    [Fact]
    public void Writer_must_put_many_small_frames_into_one_block_with_one_advance()
    {
        var pub = new Envelope.Pub("prices", Encoding.UTF8.GetBytes("{\"sym\":\"ABC\",\"px\":101.5}"));
        for (var i = 0; i < 500; i++)
        {
            _writer.Write(pub);
            _writer.WriteFrame("{\"message\":\"hi\"}"u8);
        }

        _writer.Commit();

        Assert.Equal(1, _output.MemoryRequests);
        Assert.Equal(new ProtocolOptions().WriteBlockSize, _output.SizeHints.Single());
        Assert.Equal(1, _output.Advances);
        Assert.Equal(1000, Wire.Decode(Wire.Drain(_pipe)).Count);
    }

    [Fact]
    public void Writer_must_leave_flushing_to_the_caller()
    {
        _writer.Write(new Envelope.Ping(1));
        _writer.Write(new Envelope.Ping(2));
        _writer.Commit();

        Assert.False(_pipe.Reader.TryRead(out _));
        Assert.Equal(2 * (4 + "{\"t\":\"ping\",\"n\":1}".Length), _writer.UnflushedBytes);
        Assert.Equal(0, _output.Flushes);

        Assert.True(_writer.FlushAsync().IsCompletedSuccessfully);

        Assert.Equal(0, _writer.UnflushedBytes);
        Assert.Equal(["ping", "ping"], Wire.Decode(Wire.Drain(_pipe)).Select(e => e.Type));
    }

    [Fact]
    public void Writer_must_put_a_large_frame_into_contiguous_pipe_memory_in_one_copy()
    {
        var large = new byte[1024 * 1024];
        new Random(1).NextBytes(large);
        _writer.Write(new Envelope.Ping(1));

        _writer.WriteFrame(large);
        _writer.Write(new Envelope.Ping(2));
        _writer.Commit();

        Assert.Contains(4 + large.Length, _output.SizeHints);
        var payloads = FramePayloads(Wire.Drain(_pipe));
        Assert.Equal(3, payloads.Count);
        Assert.Equal(large, payloads[1]);
    }

    [Fact]
    public void Writer_must_carry_a_frame_that_outgrows_its_block_over_to_the_next_one()
    {
        var writer = new FrameWriter(_pipe.Writer, new ProtocolOptions { WriteBlockSize = 4096 });
        writer.ApplyPeerHello(Wire.PeerHello);
        var sent = Enumerable.Range(0, 50)
            .Select(i => new Envelope.Res(i + 1, Encoding.UTF8.GetBytes($"\"{new string('x', 100 * i)}\"")))
            .ToList();

        sent.ForEach(writer.Write);
        writer.Commit();

        Assert.Equal(sent.Select(Wire.Describe), Wire.Decode(Wire.Drain(_pipe)).Select(Wire.Describe));
    }

    [Fact]
    public void Writer_must_refuse_a_frame_above_the_peer_limit_and_write_nothing()
    {
        const int limit = 64 * 1024;
        _writer.ApplyPeerHello(Wire.PeerHello with { MaxFrameSize = limit });

        var raw = Assert.Throws<FrameTooLargeException>(() => _writer.WriteFrame(new byte[limit + 1]));
        var data = Assert.Throws<FrameTooLargeException>(() => _writer.Write(new Envelope.Pub("t", Quoted(limit))));
        var envelope = Assert.Throws<FrameTooLargeException>(() => _writer.Write(new Envelope.Pub("t", Quoted(limit - 10))));
        var attachment = Assert.Throws<FrameTooLargeException>(() =>
            _writer.Write(new Envelope.Pub("t", "1"u8.ToArray()) { Attachment = new byte[limit + 1] }));
        _writer.Write(new Envelope.Ping(1));
        _writer.WriteFrame(new byte[limit]);
        _writer.Commit();

        Assert.Equal(limit + 1, raw.Length);
        Assert.Equal(limit, data.MaxFrameSize);
        Assert.True(envelope.Length > limit);
        Assert.Equal(limit + 1, attachment.Length);
        var payloads = FramePayloads(Wire.Drain(_pipe));
        Assert.Equal([18, limit], payloads.Select(p => p.Length));
    }

    [Fact]
    public void Writer_must_refuse_attachments_for_a_peer_without_the_bin_capability()
    {
        _writer.ApplyPeerHello(Wire.PeerHello with { Capabilities = [] });

        Assert.Throws<NotSupportedException>(() => _writer.Write(new Envelope.Pub("t", default) { Attachment = new byte[1] }));
        _writer.Commit();

        Assert.Empty(Wire.Drain(_pipe));
    }

    [Fact]
    public async Task Writer_and_reader_must_carry_a_stream_of_envelopes_through_a_real_pipe()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 256 * 1024, resumeWriterThreshold: 128 * 1024));
        var sent = Enumerable.Range(1, 20_000)
            .Select(i => (Envelope)(i % 100 == 0
                ? new Envelope.Pub("images", Encoding.UTF8.GetBytes($"{{\"n\":{i}}}")) { Attachment = new byte[i * 3] }
                : new Envelope.Pub("prices", Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"))))
            .ToList();

        var writing = Task.Run(async () =>
        {
            var writer = new FrameWriter(pipe.Writer);
            writer.ApplyPeerHello(Wire.PeerHello);
            foreach (var envelope in sent)
            {
                writer.Write(envelope);
                if (writer.UnflushedBytes > 32 * 1024)
                {
                    await writer.FlushAsync();
                }
            }

            await writer.FlushAsync();
            await pipe.Writer.CompleteAsync();
        });
        var received = Task.Run(async () =>
        {
            var decoder = new EnvelopeDecoder();
            return (await Wire.ReadPayloadsAsync(pipe.Reader)).Select(p => decoder.Decode(p.AsSpan())).OfType<Envelope>().ToList();
        });

        await writing.WaitAsync(TestTimeouts.Long);
        Assert.Equal(sent.Select(Wire.Describe), (await received.WaitAsync(TestTimeouts.Long)).Select(Wire.Describe));
    }

    private static byte[] Quoted(int length) => Encoding.UTF8.GetBytes($"\"{new string('x', length - 2)}\"");

    private static List<byte[]> FramePayloads(byte[] bytes)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);
        var payloads = new List<byte[]>();
        while (FrameReader.TryReadFrame(ref buffer, ProtocolOptions.DefaultMaxFrameSize, out var payload))
        {
            payloads.Add(payload.ToArray());
        }

        return payloads;
    }
}
