using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using MeshActors.Transport.Http2;

namespace MeshActors.Tests.Transport.Http2;

/// <summary>
/// A TCP listener on 127.0.0.1 that speaks HTTP/2 only as far as the test's script does: the test reads the client's
/// frames and writes raw frames back, so it can answer as no Kestrel would.
/// </summary>
internal sealed class ScriptedListener : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<ScriptedConnection> _connections = [];

    public ScriptedListener() => _listener.Start();

    public DnsEndPoint Address => new("127.0.0.1", ((IPEndPoint)_listener.LocalEndpoint).Port);

    /// <summary>The next connection a client opened; the listener closes it when disposed.</summary>
    public async Task<ScriptedConnection> AcceptAsync()
    {
        var connection = new ScriptedConnection(await _listener.AcceptSocketAsync().WithTimeout());
        _connections.Add(connection);
        return connection;
    }

    public ValueTask DisposeAsync()
    {
        _listener.Stop();
        foreach (var connection in _connections)
        {
            connection.Dispose();
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>One accepted connection: reads the client's frames, sends whatever bytes the script gives it.</summary>
internal sealed class ScriptedConnection(Socket socket) : IDisposable
{
    private readonly NetworkStream _stream = new(socket, ownsSocket: true);

    /// <summary>Reads the client's preface, its SETTINGS and everything up to its request's HEADERS; returns its settings.</summary>
    public async Task<IReadOnlyDictionary<Http2Setting, uint>> ReadOpeningAsync()
    {
        var preface = new byte[Http2FrameHeader.Preface.Length];
        await _stream.ReadExactlyAsync(preface).WithTimeout();
        Assert.Equal(Http2FrameHeader.Preface.ToArray(), preface);

        var settings = await ReadFrameAsync();
        Assert.Equal(Http2FrameType.Settings, settings.Header.Type);
        var values = new Dictionary<Http2Setting, uint>();
        for (var offset = 0; offset < settings.Payload.Length; offset += 6)
        {
            values[(Http2Setting)BinaryPrimitives.ReadUInt16BigEndian(settings.Payload.AsSpan(offset))] =
                BinaryPrimitives.ReadUInt32BigEndian(settings.Payload.AsSpan(offset + 2));
        }

        await ReadFrameAsync(frame => frame.Header.Type == Http2FrameType.Headers && frame.Header.Has(Http2Flags.EndHeaders));
        return values;
    }

    public async Task<ScriptedFrame> ReadFrameAsync()
    {
        var header = new byte[Http2FrameHeader.Size];
        await _stream.ReadExactlyAsync(header).WithTimeout();
        var frameHeader = Http2FrameHeader.Read(header);
        var payload = new byte[frameHeader.Length];
        await _stream.ReadExactlyAsync(payload).WithTimeout();
        return new ScriptedFrame(frameHeader, payload);
    }

    /// <summary>Reads frames until one is <paramref name="wanted"/>, passing over the others (SETTINGS ACKs, keep-alive PINGs, window updates).</summary>
    public async Task<ScriptedFrame> ReadFrameAsync(Func<ScriptedFrame, bool> wanted)
    {
        while (true)
        {
            var frame = await ReadFrameAsync();
            if (wanted(frame))
            {
                return frame;
            }
        }
    }

    public async Task SendAsync(params byte[][] frames)
    {
        foreach (var frame in frames)
        {
            await _stream.WriteAsync(frame).WithTimeout();
        }
    }

    /// <summary>Ends what this side sends (a FIN); the client may still write.</summary>
    public void CloseOutput() => socket.Shutdown(SocketShutdown.Send);

    public void Dispose() => _stream.Dispose();
}

internal sealed record ScriptedFrame(Http2FrameHeader Header, byte[] Payload);

/// <summary>Raw frames for a script to send, built from the protocol's pieces without any checks of their own.</summary>
internal static class RawFrame
{
    private const int StreamId = 1;

    public static byte[] Frame(Http2FrameType type, Http2Flags flags, int streamId, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[Http2FrameHeader.Size + payload.Length];
        new Http2FrameHeader(payload.Length, type, flags, streamId).Write(frame);
        payload.CopyTo(frame.AsSpan(Http2FrameHeader.Size));
        return frame;
    }

    /// <summary>A PADDED frame: the pad length, the payload, then that many zeros (RFC 9113 6.1).</summary>
    public static byte[] Padded(Http2FrameType type, Http2Flags flags, ReadOnlySpan<byte> payload, byte padding)
    {
        var padded = new byte[1 + payload.Length + padding];
        padded[0] = padding;
        payload.CopyTo(padded.AsSpan(1));
        return Frame(type, flags | Http2Flags.Padded, StreamId, padded);
    }

    public static byte[] Data(ReadOnlySpan<byte> payload, bool endStream = false) =>
        Frame(Http2FrameType.Data, endStream ? Http2Flags.EndStream : Http2Flags.None, StreamId, payload);

    /// <summary>Response headers with only a <c>:status</c>, as a literal on the static table's name.</summary>
    public static byte[] Response(int status, bool endStream = false)
    {
        var block = new ArrayBufferWriter<byte>();
        HpackEncoder.WriteLiteral(8, status.ToString(System.Globalization.CultureInfo.InvariantCulture), block);
        var flags = Http2Flags.EndHeaders | (endStream ? Http2Flags.EndStream : Http2Flags.None);
        return Frame(Http2FrameType.Headers, flags, StreamId, block.WrittenSpan);
    }

    public static byte[] GoAway(int lastStreamId, Http2ErrorCode code, string debug)
    {
        var payload = new byte[8 + debug.Length];
        BinaryPrimitives.WriteInt32BigEndian(payload, lastStreamId);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(4), (uint)code);
        System.Text.Encoding.ASCII.GetBytes(debug, payload.AsSpan(8));
        return Frame(Http2FrameType.GoAway, Http2Flags.None, 0, payload);
    }
}
