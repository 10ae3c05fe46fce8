using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;
using MeshActors.Transport;
using MeshActors.Transport.Http2;
using Xunit.Abstractions;

namespace MeshActors.Tests.Transport.Http2;

/// <summary>
/// The dialer's own HTTP/2 client against a hand-made listener that uses forms RFC 9113 allows (or forbids) and Kestrel
/// never sends: header blocks whose HEADERS frame carries no bytes, an END_STREAM that needs no flow-control credit, and
/// an informational response that ends the stream.
/// </summary>
public sealed class DialerUnusualListenerSpec(ITestOutputHelper output)
{
    // The scripted listener answers no keep-alive PING; a minute-long connect timeout makes a hang show as one.
    private static readonly TransportOptions Patient = Loopback.DefaultOptions with
    {
        KeepAlivePingDelay = TimeSpan.FromMinutes(1),
        ConnectTimeout = TimeSpan.FromMinutes(1),
    };

    private readonly TestLog _log = new(output);

    // RFC 9113 6.2 / 6.10: a header block may be split anywhere, also before its first byte; a HEADERS frame with an
    // empty fragment followed by CONTINUATIONs is as valid as any other split.
    [Fact]
    public async Task A_response_header_block_sent_wholly_in_a_continuation_must_open_the_channel()
    {
        await using var listener = new ScriptedListener();
        using var dialer = new MeshDialer("dialer", Patient, _log);
        var opening = dialer.OpenChannelAsync(listener.Address);
        var connection = await listener.AcceptAsync();
        await connection.ReadOpeningAsync();

        var block = new ArrayBufferWriter<byte>();
        HpackEncoder.WriteLiteral(8, "200", block); // :status: 200
        HpackEncoder.WriteLiteral(ChannelHeaders.ServiceName, "scripted", block);
        await connection.SendAsync(
            Http2ControlFrame.Settings(),
            RawFrame.Frame(Http2FrameType.Headers, Http2Flags.None, 1, []),
            RawFrame.Frame(Http2FrameType.Continuation, Http2Flags.EndHeaders, 1, block.WrittenSpan),
            RawFrame.Data("body"u8, endStream: true));

        await using var channel = await opening.WithTimeout();
        Assert.Equal("scripted", channel.RemoteServiceName);
        Assert.Equal("body", Encoding.ASCII.GetString(await ReadToEndAsync(channel.Input)));
        Assert.False(channel.Aborted.IsCancellationRequested);
    }

    // Trailers may be an empty header block (RFC 9113 8.1: a HEADERS frame with END_STREAM ends the response); it must
    // end the input in order, as the non-empty trailers of Http2ClientConnectionSpec do.
    [Fact]
    public async Task Empty_trailers_must_end_the_input_in_order()
    {
        await using var listener = new ScriptedListener();
        using var dialer = new MeshDialer("dialer", Patient, _log);
        var opening = dialer.OpenChannelAsync(listener.Address);
        var connection = await listener.AcceptAsync();
        await connection.ReadOpeningAsync();

        await connection.SendAsync(
            Http2ControlFrame.Settings(),
            RawFrame.Response(200),
            RawFrame.Data("body"u8),
            RawFrame.Frame(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.EndStream, 1, []));

        await using var channel = await opening.WithTimeout();
        Assert.Equal("body", Encoding.ASCII.GetString(await ReadToEndAsync(channel.Input)));
        Assert.False(channel.Aborted.IsCancellationRequested);
        Assert.Equal(0, _log.Count(3010)); // no "Lost" line
    }

    // A zero-length DATA frame is not limited by flow control (RFC 9113 6.9.1 counts only a frame's length): the end of
    // the request must reach the listener although the listener's window is used up exactly (or was 0 from the start).
    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public async Task Completing_the_output_must_send_end_stream_when_the_listeners_window_is_exactly_used_up(int window)
    {
        await using var listener = new ScriptedListener();
        using var dialer = new MeshDialer("dialer", Patient, _log);
        var opening = dialer.OpenChannelAsync(listener.Address);
        var connection = await listener.AcceptAsync();
        await connection.ReadOpeningAsync();
        await connection.SendAsync(Http2ControlFrame.Settings((Http2Setting.InitialWindowSize, (uint)window)), RawFrame.Response(200));
        await using var channel = await opening.WithTimeout();

        if (window > 0)
        {
            await channel.Output.WriteAsync(new byte[window]).AsTask().WithTimeout();
            var data = await connection.ReadFrameAsync(frame => frame.Header.Type == Http2FrameType.Data);
            Assert.Equal(window, data.Payload.Length);
            Assert.False(data.Header.Has(Http2Flags.EndStream));
        }

        // Its ACK comes from the client's write loop: once here, the loop has taken the SETTINGS and any DATA and is idle.
        await PingAsync(connection);

        await channel.Output.CompleteAsync().AsTask().WithTimeout();

        var end = await connection.ReadFrameAsync(frame => frame.Header.Type is Http2FrameType.Data or Http2FrameType.RstStream);
        Assert.Equal(Http2FrameType.Data, end.Header.Type);
        Assert.True(end.Header.Has(Http2Flags.EndStream), "the last DATA frame must carry END_STREAM");
        Assert.Empty(end.Payload);
    }

    // RFC 9113 8.1: "A HEADERS frame with the END_STREAM flag set that carries an informational status code is
    // malformed", and 8.1.1: a malformed response MUST be treated as a stream error of type PROTOCOL_ERROR. The listener
    // has ended its side: no final response can follow, so the opening must fail at once, not after the connect timeout.
    [Fact]
    public async Task An_informational_response_that_ends_the_stream_must_fail_the_open_at_once()
    {
        await using var listener = new ScriptedListener();
        using var dialer = new MeshDialer("dialer", Patient, _log);
        var opening = dialer.OpenChannelAsync(listener.Address);
        var connection = await listener.AcceptAsync();
        await connection.ReadOpeningAsync();

        await connection.SendAsync(Http2ControlFrame.Settings(), RawFrame.Response(103, endStream: true));

        // Well within the dialer's one-minute connect timeout.
        var failure = await Assert.ThrowsAsync<ChannelConnectException>(() => opening.WithTimeout());
        output.WriteLine(failure.Message);
        Assert.DoesNotContain("no answer within", failure.Message);
        Assert.Equal(1, dialer.Stats.DialFailures);
    }

    // RFC 9113 10.5: a peer may make another spend resources without end by asking for acknowledgements it never reads
    // (the PING flood of CVE-2019-9512). The answers wait behind a socket the listener does not read: the dialer must
    // cut the connection, with one clear loss, rather than hold every one of them.
    [Fact]
    public async Task A_listener_that_floods_pings_without_reading_must_be_cut_off()
    {
        await using var listener = new ScriptedListener();
        using var dialer = new MeshDialer("dialer", Patient, _log);
        var opening = dialer.OpenChannelAsync(listener.Address);
        var connection = await listener.AcceptAsync();
        await connection.ReadOpeningAsync();
        await connection.SendAsync(Http2ControlFrame.Settings(), RawFrame.Response(200));
        await using var channel = await opening.WithTimeout();

        // 64 MB of PINGs, more acknowledgements than the sockets' buffers hold; the listener reads none of them.
        var ping = RawFrame.Frame(Http2FrameType.Ping, Http2Flags.None, 0, new byte[8]);
        var burst = Enumerable.Repeat(ping, 64 * 1024).SelectMany(frame => frame).ToArray();
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = channel.Aborted.Register(() => lost.TrySetResult());
        try
        {
            for (var sent = 0L; sent < 64L * 1024 * 1024 && !lost.Task.IsCompleted; sent += burst.Length)
                await connection.SendAsync(burst).WaitAsync(TestTimeouts.Default);
        }
        catch (IOException)
        {
            // The dialer closed the connection under the flood.
        }

        await lost.Task.WithTimeout();
        Assert.Contains(_log.Lines, line => line.Message.Contains("acknowledgements wait unsent", StringComparison.Ordinal));
    }

    // A round trip through the client's read loop and write loop.
    private static async Task PingAsync(ScriptedConnection connection)
    {
        var opaque = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(opaque, 0x0dd11e);
        await connection.SendAsync(RawFrame.Frame(Http2FrameType.Ping, Http2Flags.None, 0, opaque));
        await connection.ReadFrameAsync(frame =>
            frame.Header.Type == Http2FrameType.Ping && frame.Header.Has(Http2Flags.Ack) && frame.Payload.AsSpan().SequenceEqual(opaque));
    }

    private static async Task<byte[]> ReadToEndAsync(PipeReader input)
    {
        while (true)
        {
            var result = await input.ReadAsync().AsTask().WithTimeout();
            if (result.IsCompleted)
            {
                var bytes = result.Buffer.ToArray();
                input.AdvanceTo(result.Buffer.End);
                return bytes;
            }

            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }
}
