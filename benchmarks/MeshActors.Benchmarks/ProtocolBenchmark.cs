using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using MeshActors.Protocol;

namespace MeshActors.Benchmarks;

/// <summary>The wire codec alone, on one thread, without sockets: encoding and decoding a pub with 100 bytes of data.</summary>
/// <remarks>
/// Prints <c>protocol.&lt;figure&gt; ns/op=&lt;median of 7 rounds&gt; bytes/op=&lt;allocated&gt;</c>; an argument runs only the
/// figures whose name contains it. Encoding goes through a <see cref="FrameWriter"/> into a real <see cref="Pipe"/>,
/// flushed every 64 KiB and drained by its reader; decoding reads a buffer of back-to-back frames with
/// <see cref="FrameReader"/> and <see cref="EnvelopeDecoder"/>; <c>read</c> is the framing alone and <c>tokenize</c>
/// the bare <see cref="Utf8JsonReader"/> pass that any decoding of the payload costs at least.
/// </remarks>
internal sealed class ProtocolBenchmark : IBenchmarkSuite
{
    private const int Rounds = 7;
    private static readonly TimeSpan RoundTime = TimeSpan.FromMilliseconds(300);

    // 100 bytes of JSON: a typical small application message.
    private static readonly byte[] Data = Encoding.UTF8.GetBytes(
        "{\"id\":123456,\"sym\":\"ABCD\",\"px\":101.25,\"qty\":100,\"side\":\"buy\",\"venue\":\"XNAS\",\"note\":\"a small order.\"}");

    private static readonly Envelope.Pub Pub = new("orders", Data);

    public string Name => "protocol";

    public Task RunAsync(string[] args)
    {
        if (Data.Length != 100)
        {
            throw new InvalidOperationException($"The sample data is {Data.Length} bytes, not 100.");
        }

        (string Figure, Func<Func<long>> Loop)[] figures =
        [
            ("encode.pub100B", () => new EncodeLoop().Run),
            ("decode.pub100B", () => new DecodeLoop().Run),
            ("read.frame100B", () => new FrameLoop().Run),
            ("tokenize.pub100B", () => new TokenizeLoop().Run),
        ];
        var only = args.FirstOrDefault() ?? "";
        foreach (var (figure, loop) in figures.Where(f => f.Figure.Contains(only, StringComparison.Ordinal)))
        {
            Report(figure, loop());
        }

        return Task.CompletedTask;
    }

    private static void Report(string figure, Func<long> runBatch)
    {
        Measure(runBatch, TimeSpan.FromSeconds(1));
        var rounds = Enumerable.Range(0, Rounds).Select(_ => Measure(runBatch, RoundTime)).OrderBy(r => r.NsPerOp).ToList();
        var median = rounds[Rounds / 2];
        Console.WriteLine($"protocol.{figure} ns/op={median.NsPerOp:F1} bytes/op={median.BytesPerOp:F1}");
    }

    // Runs batches for at least the given time; each batch returns how many operations it did.
    private static (double NsPerOp, double BytesPerOp) Measure(Func<long> runBatch, TimeSpan duration)
    {
        long operations = 0;
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            operations += runBatch();
        }

        clock.Stop();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        return (clock.Elapsed.TotalNanoseconds / operations, (double)allocated / operations);
    }

    private sealed class EncodeLoop
    {
        private const int FlushThreshold = 64 * 1024;
        private readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: 0));
        private readonly FrameWriter _writer;

        public EncodeLoop()
        {
            _writer = new FrameWriter(_pipe.Writer);
        }

        public long Run()
        {
            long count = 0;
            while (_writer.UnflushedBytes < FlushThreshold)
            {
                _writer.Write(Pub);
                count++;
            }

            _ = _writer.FlushAsync();
            _pipe.Reader.TryRead(out var result);
            _pipe.Reader.AdvanceTo(result.Buffer.End);
            return count;
        }
    }

    private sealed class DecodeLoop
    {
        private readonly byte[] _frames = Encode(Pub, 1000);
        private readonly EnvelopeDecoder _decoder = new();

        public Envelope? Last { get; private set; }

        public long Run()
        {
            long count = 0;
            var buffer = new ReadOnlySequence<byte>(_frames);
            while (FrameReader.TryReadFrame(ref buffer, ProtocolOptions.DefaultMaxFrameSize, out var payload))
            {
                Last = _decoder.Decode(payload);
                count++;
            }

            return count;
        }
    }

    // The floor under decoding: Utf8JsonReader walking the payload's tokens and doing nothing else.
    private sealed class TokenizeLoop
    {
        private readonly byte[] _payload = Encode(Pub, 1)[FrameReader.LengthSize..];

        public long Run()
        {
            for (var i = 0; i < 1000; i++)
            {
                var reader = new Utf8JsonReader(_payload);
                while (reader.Read())
                {
                }
            }

            return 1000;
        }
    }

    private sealed class FrameLoop
    {
        private readonly byte[] _frames = Encode(Pub, 1000);

        public long Length { get; private set; }

        public long Run()
        {
            long count = 0;
            var buffer = new ReadOnlySequence<byte>(_frames);
            while (FrameReader.TryReadFrame(ref buffer, ProtocolOptions.DefaultMaxFrameSize, out var payload))
            {
                Length += payload.Length;
                count++;
            }

            return count;
        }
    }

    private static byte[] Encode(Envelope envelope, int copies)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var writer = new FrameWriter(pipe.Writer);
        for (var i = 0; i < copies; i++)
        {
            writer.Write(envelope);
        }

        _ = writer.FlushAsync();
        pipe.Reader.TryRead(out var result);
        return result.Buffer.ToArray();
    }
}
