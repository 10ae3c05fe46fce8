using System.Net;
using MeshActors.Protocol;
using MeshActors.Transport;

namespace MeshActors.Tests.Peers;

using MeshActors.TestKit;

/// <summary>
/// One end of a real HTTP/2 mesh channel driven by hand: a peer that dials a node (<see cref="DialAsync"/>) or a
/// channel a hand-made listener accepted. Frames are written as given, envelopes read as they come.
/// </summary>
internal sealed class HandDrivenChannel(MeshChannel channel, MeshDialer? dialer = null) : IAsyncDisposable
{
    private readonly EnvelopeDecoder _decoder = new();

    public MeshChannel Channel { get; } = channel;

    /// <summary>Dials <paramref name="address"/> offering protocol version 1, with <paramref name="sessionId"/> as <c>x-session-id</c> when given.</summary>
    public static async Task<HandDrivenChannel> DialAsync(DnsEndPoint address, string? sessionId = null)
    {
        var dialer = new MeshDialer("hand", new TransportOptions());
        var metadata = new Dictionary<string, string> { [WireProtocol.VersionHeader] = "1" };
        return new HandDrivenChannel(await dialer.OpenChannelAsync(address, sessionId, metadata).WithTimeout(), dialer);
    }

    /// <summary>Reads the node's hello and answers with one naming <paramref name="nodeId"/> and, when given, the run it is.</summary>
    public async Task HandshakeAsync(string nodeId, string? incarnation = null)
    {
        Assert.IsType<Envelope.Hello>(await ReadAsync());
        await WriteAsync(new Envelope.Hello(nodeId, "hand", [WireProtocol.BinaryCapability]) { Incarnation = incarnation });
    }

    public Task WriteAsync(Envelope envelope)
    {
        var writer = new FrameWriter(Channel.Output);
        writer.Write(envelope);
        return writer.FlushAsync().AsTask().WithTimeout();
    }

    /// <summary>Answers the node's pings, as a live peer does, until <paramref name="cancellationToken"/> fires or the channel ends.</summary>
    public async Task AnswerPingsAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (await ReadAsync().WaitAsync(cancellationToken) is not { } envelope)
                    return;
                if (envelope is Envelope.Ping ping)
                    await WriteAsync(new Envelope.Pong(ping.Value));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>The next envelope of type <typeparamref name="T"/>, skipping anything else.</summary>
    public async Task<T> NextAsync<T>()
        where T : Envelope
    {
        while (true)
        {
            switch (await ReadAsync())
            {
                case T wanted:
                    return wanted;
                case null:
                    throw new InvalidOperationException($"the channel ended before a {typeof(T).Name}");
            }
        }
    }

    /// <summary>The next envelope but pings, or null once the node has ended its side.</summary>
    public async Task<Envelope?> NextAsync()
    {
        while (true)
        {
            var envelope = await ReadAsync();
            if (envelope is not Envelope.Ping)
                return envelope;
        }
    }

    /// <summary>The next <c>res</c> or <c>err</c> for request <paramref name="id"/>.</summary>
    public async Task<Envelope> NextAnswerAsync(long id)
    {
        while (true)
        {
            switch (await ReadAsync())
            {
                case Envelope.Res res when res.Id == id:
                    return res;
                case Envelope.Err err when err.Id == id:
                    return err;
                case null:
                    throw new InvalidOperationException($"the channel ended before an answer to request {id}");
            }
        }
    }

    /// <summary>The next envelope, pings included; null once the node has ended its side.</summary>
    public async Task<Envelope?> ReadAsync()
    {
        var input = Channel.Input;
        while (true)
        {
            var result = await input.ReadAsync().AsTask().WithTimeout();
            var buffer = result.Buffer;
            Envelope? envelope = null;
            while (envelope is null && FrameReader.TryReadFrame(ref buffer, int.MaxValue, out var payload))
                envelope = _decoder.Decode(payload);

            input.AdvanceTo(buffer.Start, envelope is not null ? buffer.Start : buffer.End);
            if (envelope is not null)
                return envelope;
            if (result.IsCompleted)
                return null;
        }
    }

    /// <summary>Resets the stream, as a peer that is gone would.</summary>
    public void Abort() => Channel.Abort("the hand-driven peer is gone");

    public async ValueTask DisposeAsync()
    {
        await Channel.DisposeAsync();
        dialer?.Dispose();
    }
}
