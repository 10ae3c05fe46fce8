using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using MeshActors.Protocol;
using MeshActors.Transport;

namespace MeshActors.Tests.Peers;

/// <summary>A hand-driven peer over a real HTTP/2 channel: writes whatever bytes a test gives it and decodes what comes back.</summary>
internal sealed class RawPeer : IAsyncDisposable
{
    private readonly MeshDialer _dialer;
    private readonly EnvelopeDecoder _decoder = new();

    private RawPeer(MeshDialer dialer, MeshChannel channel)
    {
        _dialer = dialer;
        Channel = channel;
    }

    public MeshChannel Channel { get; }

    /// <summary>Envelopes read so far (raw messages on a plain channel).</summary>
    public List<Envelope> Received { get; } = [];

    /// <summary>Opens a channel offering <paramref name="versions"/> in <c>x-mesh-protocol</c>; null opens a plain (Marketrix) channel.</summary>
    public static Task<RawPeer> OpenAsync(DnsEndPoint address, string? versions = "1", string name = "raw") =>
        OpenAsync(address, versions, name, (dialer, metadata) => dialer.OpenChannelAsync(address, sessionId: null, metadata));

    /// <summary>Opens a unary call (<c>POST /unary</c>) the same way; its request body stays open until the test completes <see cref="MeshChannel.Output"/>.</summary>
    public static Task<RawPeer> OpenUnaryAsync(DnsEndPoint address, string? versions = "1", string name = "raw") =>
        OpenAsync(address, versions, name, (dialer, metadata) => dialer.OpenUnaryAsync(address, sessionId: null, metadata));

    private static async Task<RawPeer> OpenAsync(
        DnsEndPoint address, string? versions, string name, Func<MeshDialer, IReadOnlyDictionary<string, string>?, Task<MeshChannel>> open)
    {
        var dialer = new MeshDialer(name, new TransportOptions());
        var metadata = versions is null ? null : new Dictionary<string, string> { [WireProtocol.VersionHeader] = versions };
        return new RawPeer(dialer, await open(dialer, metadata).WithTimeout());
    }

    /// <summary>Reads the node's hello and answers with this one's.</summary>
    public async Task<Envelope.Hello> HandshakeAsync(string nodeId = "raw-node", string name = "raw")
    {
        var hello = Assert.IsType<Envelope.Hello>(await ReadAsync());
        await WriteAsync(new Envelope.Hello(nodeId, name, [WireProtocol.BinaryCapability]));
        return hello;
    }

    public Task WriteAsync(Envelope envelope)
    {
        var writer = new FrameWriter(Channel.Output);
        writer.Write(envelope);
        return writer.FlushAsync().AsTask().WithTimeout();
    }

    /// <summary>Writes one frame with this JSON as its payload.</summary>
    public Task WriteJsonAsync(string json) => WriteAsync(Frame(Encoding.UTF8.GetBytes(json)));

    /// <summary>Writes these bytes as they are.</summary>
    public Task WriteAsync(byte[] bytes) => Channel.Output.WriteAsync(bytes).AsTask().WithTimeout();

    public static byte[] Frame(byte[] payload)
    {
        var frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)payload.Length);
        payload.CopyTo(frame, 4);
        return frame;
    }

    /// <summary>The next envelope from the node (pings skipped unless asked for), or null once its side has ended.</summary>
    public async Task<Envelope?> ReadAsync(bool skipPings = true)
    {
        while (await ReadFrameAsync() is { } envelope)
        {
            if (!(skipPings && envelope is Envelope.Ping))
            {
                return envelope;
            }
        }

        return null;
    }

    /// <summary>The next <c>err</c> frame from the node.</summary>
    public async Task<Envelope.Err> ReadErrAsync() => Assert.IsType<Envelope.Err>(await ReadAsync());

    /// <summary>Reads until the node's side ends: true when it ended in order, false when the stream was reset.</summary>
    public async Task<bool> ReadToEndAsync()
    {
        try
        {
            while (await ReadFrameAsync() is not null)
            {
            }

            return true;
        }
        catch (ChannelClosedException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Channel.DisposeAsync();
        _dialer.Dispose();
    }

    private async Task<Envelope?> ReadFrameAsync()
    {
        var input = Channel.Input;
        while (true)
        {
            var result = await input.ReadAsync().AsTask().WithTimeout();
            var buffer = result.Buffer;
            Envelope? envelope = null;
            var got = false;
            while (!got && FrameReader.TryReadFrame(ref buffer, int.MaxValue, out var payload))
            {
                envelope = Channel.ProtocolVersion is null ? EnvelopeDecoder.DecodeRaw(payload) : _decoder.Decode(payload);
                got = envelope is not null;
            }

            input.AdvanceTo(buffer.Start, got ? buffer.Start : buffer.End);
            if (got)
            {
                Received.Add(envelope!);
                return envelope;
            }

            if (result.IsCompleted)
            {
                return null;
            }
        }
    }
}
