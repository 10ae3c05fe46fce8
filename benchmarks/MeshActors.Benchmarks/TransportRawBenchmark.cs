using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using MeshActors.Transport;

namespace MeshActors.Benchmarks;

/// <summary>
/// Raw channel throughput over real loopback HTTP/2 (listener and dialer in this process): length-prefixed frames
/// written in large blocks, counted at the reader, no serialization. Proves the transport adds no trap of its own.
/// </summary>
/// <remarks>
/// Usage: <c>transport-raw [--seconds 1.5] [--stream-window BYTES] [--connection-window BYTES] [--max-frame BYTES]</c>.
/// Prints the listener's start time, then <c>transport-raw.&lt;direction&gt;.&lt;payload&gt; msgs/s=N MB/s=N</c> for dialer-to-listener (c2s),
/// listener-to-dialer (s2c), both ways on one channel (duplex, sum of both directions) and c2s over two channels.
/// </remarks>
public sealed class TransportRawBenchmark : IBenchmarkSuite
{
    private const int SmallPayload = 100;
    private const int LargePayload = 1024 * 1024;
    private const int BlockSize = 64 * 1024;

    private readonly System.Threading.Channels.Channel<MeshChannel> _accepted = System.Threading.Channels.Channel.CreateUnbounded<MeshChannel>();
    private readonly ConcurrentDictionary<MeshChannel, TaskCompletionSource> _running = new();

    /// <inheritdoc />
    public string Name => "transport-raw";

    /// <inheritdoc />
    public async Task RunAsync(string[] args)
    {
        var seconds = Option(args, "--seconds", 1.5);
        var defaults = new TransportOptions();
        var options = defaults with
        {
            Http2StreamWindowSize = (int)Option(args, "--stream-window", defaults.Http2StreamWindowSize),
            Http2ConnectionWindowSize = (int)Option(args, "--connection-window", defaults.Http2ConnectionWindowSize),
            Http2MaxFrameSize = (int)Option(args, "--max-frame", defaults.Http2MaxFrameSize),
        };
        Console.Error.WriteLine($"# windows: stream {options.Http2StreamWindowSize}, connection {options.Http2ConnectionWindowSize}, max frame {options.Http2MaxFrameSize}; {seconds} s per figure");

        var cold = await StartListenerAsync(options);
        var warm = await StartListenerAsync(options);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"transport-raw.listener.start cold_ms={cold.Elapsed.TotalMilliseconds:0.0} warm_ms={warm.Elapsed.TotalMilliseconds:0.0}"));
        await cold.Listener.DisposeAsync();
        await using var listener = warm.Listener;
        using var dialer = new MeshDialer("bench-dialer", options);
        var duration = TimeSpan.FromSeconds(seconds);

        // One untimed round first, so that JIT tiering does not count against the first figure.
        await MeasureAsync(dialer, listener, SmallPayload, Direction.Duplex, channels: 1, TimeSpan.FromSeconds(0.5));
        foreach (var payload in new[] { SmallPayload, LargePayload })
        {
            foreach (var (direction, channels) in new[] { (Direction.ClientToServer, 1), (Direction.ServerToClient, 1), (Direction.Duplex, 1), (Direction.ClientToServer, 2) })
            {
                var (frames, bytes, elapsed) = await MeasureAsync(dialer, listener, payload, direction, channels, duration);
                var name = direction switch
                {
                    Direction.ClientToServer => channels == 1 ? "c2s" : $"c2s.{channels}ch",
                    Direction.ServerToClient => "s2c",
                    _ => "duplex",
                };
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"transport-raw.{name}.{(payload == SmallPayload ? "100B" : "1MB")} msgs/s={frames / elapsed.TotalSeconds:0} MB/s={bytes / elapsed.TotalSeconds / 1e6:0}"));
            }
        }
    }

    private enum Direction
    {
        ClientToServer,
        ServerToClient,
        Duplex,
    }

    private async Task<(long Frames, long Bytes, TimeSpan Elapsed)> MeasureAsync(
        MeshDialer dialer, MeshListener listener, int payload, Direction direction, int channels, TimeSpan duration)
    {
        var pairs = new List<(MeshChannel Dialer, MeshChannel Listener)>();
        for (var i = 0; i < channels; i++)
        {
            var outbound = await dialer.OpenChannelAsync(listener.AdvertisedEndPoint);
            pairs.Add((outbound, await _accepted.Reader.ReadAsync()));
        }

        var stopwatch = Stopwatch.StartNew();
        var deadline = stopwatch.Elapsed + duration;
        var work = new List<Task<(long Frames, long Bytes)>>();
        foreach (var (outbound, inbound) in pairs)
        {
            var (toServer, toClient) = (direction != Direction.ServerToClient, direction != Direction.ClientToServer);
            work.Add(toServer ? Task.Run(() => WriteAsync(outbound.Output, payload, stopwatch, deadline)) : Complete(outbound.Output));
            work.Add(toClient ? Task.Run(() => WriteAsync(inbound.Output, payload, stopwatch, deadline)) : Complete(inbound.Output));
            work.Add(Task.Run(() => CountAsync(inbound.Input)));
            work.Add(Task.Run(() => CountAsync(outbound.Input)));
        }

        var results = await Task.WhenAll(work);
        var elapsed = stopwatch.Elapsed;
        foreach (var (outbound, inbound) in pairs)
        {
            _running[inbound].TrySetResult();
            await outbound.DisposeAsync();
        }

        // Writers return (0, 0); readers return what they counted.
        return (results.Sum(r => r.Frames), results.Sum(r => r.Bytes), elapsed);

        static async Task<(long, long)> Complete(PipeWriter output)
        {
            await output.CompleteAsync();
            return (0, 0);
        }
    }

    /// <summary>Writes whole blocks of frames (many 100 B frames per block, or one 1 MB frame in 64 KB pieces) until the deadline.</summary>
    private static async Task<(long, long)> WriteAsync(PipeWriter output, int payload, Stopwatch clock, TimeSpan deadline)
    {
        var frame = new byte[4 + payload];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)payload);
        var block = payload < BlockSize
            ? Enumerable.Repeat(frame, BlockSize / frame.Length).SelectMany(f => f).ToArray()
            : frame;
        while (clock.Elapsed < deadline)
        {
            for (var offset = 0; offset < block.Length; offset += BlockSize)
            {
                var piece = block.AsSpan(offset, Math.Min(BlockSize, block.Length - offset));
                piece.CopyTo(output.GetSpan(piece.Length));
                output.Advance(piece.Length);
                await output.FlushAsync();
            }
        }

        await output.CompleteAsync();
        return (0, 0);
    }

    /// <summary>Counts frames by walking their length prefixes until the input completes.</summary>
    private static async Task<(long Frames, long Bytes)> CountAsync(PipeReader input)
    {
        long frames = 0, bytes = 0, skip = 0;
        var header = 0u;
        var headerBytes = 0;
        while (true)
        {
            var result = await input.ReadAsync();
            foreach (var segment in result.Buffer)
            {
                var span = segment.Span;
                bytes += span.Length;
                while (!span.IsEmpty)
                {
                    if (skip > 0)
                    {
                        var take = (int)Math.Min(skip, span.Length);
                        skip -= take;
                        span = span[take..];
                    }
                    else if (headerBytes == 0 && span.Length >= 4)
                    {
                        skip = BinaryPrimitives.ReadUInt32BigEndian(span);
                        span = span[4..];
                        frames++;
                    }
                    else
                    {
                        header = (header << 8) | span[0];
                        span = span[1..];
                        if (++headerBytes == 4)
                        {
                            (skip, header, headerBytes) = (header, 0, 0);
                            frames++;
                        }
                    }
                }
            }

            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                await input.CompleteAsync();
                return (frames, bytes);
            }
        }
    }

    /// <summary>Creates and starts a listener, timing both (the first one includes JIT and Kestrel's own start-up).</summary>
    private async Task<(MeshListener Listener, TimeSpan Elapsed)> StartListenerAsync(TransportOptions options)
    {
        var stopwatch = Stopwatch.StartNew();
        var listener = new MeshListener("bench-listener", options, HoldAsync);
        await listener.StartAsync();
        return (listener, stopwatch.Elapsed);
    }

    private Task HoldAsync(MeshChannel channel)
    {
        var running = _running.GetOrAdd(channel, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        _accepted.Writer.TryWrite(channel);
        return running.Task;
    }

    private static double Option(string[] args, string name, double fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? double.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
