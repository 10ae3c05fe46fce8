using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using MeshActors.Protocol;

namespace MeshActors.Tests.Protocol;

public sealed class FrameReaderSpec
{
    private const int Max = ProtocolOptions.DefaultMaxFrameSize;

    private static readonly byte[][] Payloads =
    [
        Encoding.UTF8.GetBytes("{\"message\":\"Message from Node #0\"}"),
        [],
        [0xff, 0x00, 0x7f],
        Encoding.UTF8.GetBytes("{\"t\":\"ping\",\"n\":1}"),
    ];

    private static readonly byte[] Stream = Payloads.SelectMany(Wire.Frame).ToArray();

    [Fact]
    public void Reader_must_reassemble_frames_split_at_every_position()
    {
        for (var cut = 0; cut <= Stream.Length; cut++)
        {
            AssertFrames(Segments.Split(Stream, cut), $"cut at {cut}");
        }
    }

    [Fact]
    public void Reader_must_reassemble_frames_split_at_every_pair_of_positions()
    {
        for (var first = 0; first <= Stream.Length; first++)
        {
            for (var second = first; second <= Stream.Length; second++)
            {
                AssertFrames(Segments.Split(Stream, first, second), $"cuts at {first} and {second}");
            }
        }
    }

    [Fact]
    public void Reader_must_reassemble_frames_arriving_one_byte_per_segment()
    {
        AssertFrames(Segments.OneBytePerSegment(Stream), "one byte per segment");
    }

    [Fact]
    public void Reader_must_take_many_frames_from_one_segment()
    {
        var payloads = Enumerable.Range(0, 1000).Select(i => Encoding.UTF8.GetBytes($"{{\"n\":{i}}}")).ToArray();
        var buffer = new ReadOnlySequence<byte>(payloads.SelectMany(Wire.Frame).ToArray());

        var read = ReadAll(ref buffer);

        Assert.Equal(payloads, read);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void Reader_must_read_a_zero_length_frame()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0, 0, 0, 0 });

        Assert.True(FrameReader.TryReadFrame(ref buffer, Max, out var payload));
        Assert.True(payload.IsEmpty);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void Reader_must_accept_a_frame_of_exactly_the_maximum_size()
    {
        const int max = 64 * 1024;
        var buffer = new ReadOnlySequence<byte>(Wire.Frame(new byte[max]));

        Assert.True(FrameReader.TryReadFrame(ref buffer, max, out var payload));
        Assert.Equal(max, payload.Length);
    }

    [Fact]
    public void Reader_must_reject_a_length_one_above_the_maximum_before_the_payload_arrives()
    {
        const int max = 64 * 1024;
        var prefixOnly = new ReadOnlySequence<byte>(Wire.Frame(new byte[max + 1])[..FrameReader.LengthSize]);

        var error = Assert.Throws<FrameTooLargeException>(() => FrameReader.TryReadFrame(ref prefixOnly, max, out _));

        Assert.Equal(ErrorCodes.FrameTooLarge, error.Code);
        Assert.True(error.ClosesChannel);
        Assert.Equal(max + 1, error.Length);
        Assert.Equal(max, error.MaxFrameSize);
    }

    [Fact]
    public void Reader_must_treat_the_length_as_unsigned()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0xff, 0xff, 0xff, 0xff });

        var error = Assert.Throws<FrameTooLargeException>(() => FrameReader.TryReadFrame(ref buffer, Max, out _));

        Assert.Equal(uint.MaxValue, error.Length);
    }

    [Fact]
    public void Reader_must_ask_for_more_data_and_leave_the_buffer_alone_while_a_frame_is_incomplete()
    {
        var frame = Wire.Frame("{\"t\":\"ping\",\"n\":7}");
        for (var length = 0; length < frame.Length; length++)
        {
            var buffer = Segments.Split(frame[..length], length / 2);
            var before = buffer;

            Assert.False(FrameReader.TryReadFrame(ref buffer, Max, out _));
            Assert.Equal(before, buffer);
        }
    }

    [Fact]
    public void Reader_must_report_a_stream_that_ends_inside_a_frame()
    {
        var frame = Wire.Frame("{\"t\":\"ping\",\"n\":7}");

        var insidePrefix = Assert.Throws<TruncatedFrameException>(() => FrameReader.EnsureNothingLeft(new ReadOnlySequence<byte>(frame[..3])));
        var insidePayload = Assert.Throws<TruncatedFrameException>(() => FrameReader.EnsureNothingLeft(Segments.Split(frame[..10], 2)));

        Assert.Equal(ErrorCodes.TruncatedFrame, insidePrefix.Code);
        Assert.Contains("3 of its 4 bytes", insidePrefix.Message);
        Assert.Contains($"6 of its {frame.Length - 4} bytes", insidePayload.Message);
        Assert.True(insidePayload.ClosesChannel);
        FrameReader.EnsureNothingLeft(ReadOnlySequence<byte>.Empty);
    }

    [Fact]
    public async Task Frames_must_come_out_of_a_real_pipe_whole_and_in_order_however_the_writes_are_cut()
    {
        // Small segments and a writer that pauses at 16 KB make the reader see frames cut at many places.
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 512, pauseWriterThreshold: 16 * 1024, resumeWriterThreshold: 8 * 1024));
        var random = new Random(42);
        var payloads = Enumerable.Range(0, 5000).Select(_ => RandomBytes(random, random.Next(0, 3000))).ToList();
        var bytes = payloads.SelectMany(Wire.Frame).ToArray();

        var writing = Task.Run(async () =>
        {
            for (var offset = 0; offset < bytes.Length;)
            {
                var chunk = Math.Min(random.Next(1, 700), bytes.Length - offset);
                await pipe.Writer.WriteAsync(bytes.AsMemory(offset, chunk));
                offset += chunk;
            }

            await pipe.Writer.CompleteAsync();
        });

        var read = await Wire.ReadPayloadsAsync(pipe.Reader).WaitAsync(TestTimeouts.Long);

        await writing.WaitAsync(TestTimeouts.Long);
        Assert.Equal(payloads.Count, read.Count);
        Assert.True(payloads.Zip(read).All(pair => pair.First.AsSpan().SequenceEqual(pair.Second)));
    }

    private static void AssertFrames(ReadOnlySequence<byte> buffer, string because)
    {
        var read = ReadAll(ref buffer);
        Assert.True(Payloads.Length == read.Count, $"{because}: {read.Count} frames");
        for (var i = 0; i < Payloads.Length; i++)
        {
            Assert.True(Payloads[i].AsSpan().SequenceEqual(read[i]), $"{because}: frame {i} differs");
        }

        Assert.True(buffer.IsEmpty, because);
    }

    private static List<byte[]> ReadAll(ref ReadOnlySequence<byte> buffer)
    {
        var read = new List<byte[]>();
        while (FrameReader.TryReadFrame(ref buffer, Max, out var payload))
        {
            read.Add(payload.ToArray());
        }

        return read;
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
