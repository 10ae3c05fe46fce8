using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text;
using MeshActors.Transport;
using MeshActors.Transport.Http2;
using Xunit.Abstractions;

namespace MeshActors.Tests.Transport.Http2;

/// <summary>
/// The dialer's own HTTP/2 client against listeners that are not Kestrel: legal forms Kestrel never sends, and
/// listeners that break the protocol, stop answering or do not speak HTTP/2 at all. Every failure ends in an exception
/// or a lost channel that names the problem, never in a hang.
/// </summary>
public sealed class Http2ClientConnectionSpec(ITestOutputHelper output)
{
    // The scripted listener answers no keep-alive PING: left at its 1 s default, the dialer would drop a channel whose
    // spec a busy machine slowed down.
    private static readonly TransportOptions Patient = Loopback.DefaultOptions with { KeepAlivePingDelay = TimeSpan.FromMinutes(1) };

    private readonly TestLog _log = new(output);

    [Fact]
    public async Task A_listener_answering_503_must_be_a_rejection_with_its_status_and_first_line()
    {
        await using var listener = new ScriptedListener();
        using var dialer = Dialer();
        var opening = dialer.OpenChannelAsync(listener.Address);
        var connection = await listener.AcceptAsync();
        await connection.ReadOpeningAsync();

        await connection.SendAsync(
            Http2ControlFrame.Settings(),
            RawFrame.Response(503),
            RawFrame.Data("draining, try another node\nsecond line"u8, endStream: true));

        var rejected = await Assert.ThrowsAsync<ChannelRejectedException>(() => opening.WithTimeout());
        Assert.Equal(503, rejected.StatusCode);
        Assert.Equal("draining, try another node", rejected.Reason);
        Assert.Equal(1, dialer.Stats.DialFailures);
    }

    [Fact]
    public async Task A_rejection_whose_body_stays_open_must_report_its_first_line_at_once()
    {
        await using var listener = new ScriptedListener();
        using var dialer = Dialer(Patient with { ConnectTimeout = TimeSpan.FromMinutes(1) });
        var opening = dialer.OpenChannelAsync(listener.Address);
        var connection = await listener.AcceptAsync();
        await connection.ReadOpeningAsync();

        await connection.SendAsync(Http2ControlFrame.Settings(), RawFrame.Response(503), RawFrame.Data("draining\n"u8, endStream: false));

        // Well within the dialer's connect timeout (a minute here), which a read to the end of the body would wait out.
        var rejected = await Assert.ThrowsAsync<ChannelRejectedException>(() => opening.WithTimeout());
        Assert.Equal("draining", rejected.Reason);
    }

    [Fact]
    public async Task Headers_split_over_continuations_with_huffman_padding_and_priority_and_padded_data_must_arrive_intact()
    {
        await using var listener = new ScriptedListener();
        using var dialer = Dialer();
        var opening = dialer.OpenChannelAsync(listener.Address);
        var connection = await listener.AcceptAsync();
        await connection.ReadOpeningAsync();

        // ":status: 200" Huffman-coded into the dynamic table, the rest of RFC 7541 C.6.1 (Huffman values, indexed
        // names), then our own header last: it only arrives if every fragment was joined and decoded.
        var block = new ArrayBufferWriter<byte>();
        block.Write(Convert.FromHexString("48821001"));
        block.Write(Convert.FromHexString(
            "5885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3"));
        HpackEncoder.WriteLiteral(ChannelHeaders.ServiceName, "scripted", block);
        var fragments = block.WrittenMemory;
        byte[] body = [.. "first frame, "u8, .. "second frame"u8];
        await connection.SendAsync(
            Http2ControlFrame.Settings(),
            RawFrame.Padded(Http2FrameType.Headers, Http2Flags.Priority, [0, 0, 0, 0, 15, .. fragments.Span[..3]], padding: 10), // cut inside a field
            RawFrame.Frame(Http2FrameType.Continuation, Http2Flags.None, 1, fragments.Span[3..20]),
            RawFrame.Frame(Http2FrameType.Continuation, Http2Flags.EndHeaders, 1, fragments.Span[20..]),
            RawFrame.Padded(Http2FrameType.Data, Http2Flags.None, body.AsSpan(0, 13), padding: 255),
            RawFrame.Padded(Http2FrameType.Data, Http2Flags.None, [], padding: 3),
            RawFrame.Data(body.AsSpan(13), endStream: true));

        await using var channel = await opening.WithTimeout();
        Assert.Equal("scripted", channel.RemoteServiceName);
        Assert.Equal(body, await ReadToEndAsync(channel.Input));
        Assert.False(channel.Aborted.IsCancellationRequested);
    }

    [Fact]
    public async Task An_interim_response_trailers_and_frames_of_unknown_types_must_be_passed_over()
    {
        await using var listener = new ScriptedListener();
        using var dialer = Dialer();
        var opening = dialer.OpenChannelAsync(listener.Address);
        var connection = await listener.AcceptAsync();
        await connection.ReadOpeningAsync();
        var trailers = new ArrayBufferWriter<byte>();
        HpackEncoder.WriteLiteral("x-outcome", "done", trailers);

        await connection.SendAsync(
            Http2ControlFrame.Settings(),
            RawFrame.Response(100),
            RawFrame.Frame((Http2FrameType)0xfa, Http2Flags.None, 0, "an extension"u8),
            RawFrame.Response(200),
            RawFrame.Frame(Http2FrameType.Priority, Http2Flags.None, 1, [0, 0, 0, 0, 15]),
            RawFrame.Data("body"u8),
            RawFrame.Frame((Http2FrameType)0xfa, Http2Flags.None, 1, "on the stream"u8),
            RawFrame.Frame(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.EndStream, 1, trailers.WrittenSpan));

        await using var channel = await opening.WithTimeout();
        Assert.Equal("body", Encoding.ASCII.GetString(await ReadToEndAsync(channel.Input)));
        Assert.False(channel.Aborted.IsCancellationRequested);
    }

    [Fact]
    public async Task A_frame_above_the_maximum_frame_size_must_lose_the_channel_naming_the_frame_size()
    {
        await using var listener = new ScriptedListener();
        using var dialer = Dialer();
        var (channel, connection) = await OpenAsync(dialer, listener);
        await using var _ = channel;

        await connection.SendAsync(RawFrame.Data(new byte[Http2FrameHeader.MinMaxFrameSize + 1]));

        var reason = await LostReasonAsync(channel);
        Assert.Contains("FrameSizeError", reason);
        Assert.Contains("16385 bytes", reason);
        Assert.Equal(1, _log.Count(3010, "FrameSizeError"));
        Assert.Equal(1, dialer.Stats.ChannelsAborted);
    }

    [Theory]
    [InlineData("frame size")]
    [InlineData("unopened stream")]
    public async Task A_listener_that_breaks_the_protocol_must_be_told_why_in_a_goaway_before_the_connection_closes(string breach)
    {
        await using var listener = new ScriptedListener();
        using var dialer = Dialer();
        var (channel, connection) = await OpenAsync(dialer, listener);
        await using var _ = channel;

        await connection.SendAsync(breach == "frame size"
            ? RawFrame.Data(new byte[Http2FrameHeader.MinMaxFrameSize + 1])
            : RawFrame.Frame(Http2FrameType.Data, Http2Flags.None, 3, "stray"u8));

        var goAway = await connection.ReadFrameAsync(frame => frame.Header.Type == Http2FrameType.GoAway);
        var expected = breach == "frame size" ? Http2ErrorCode.FrameSizeError : Http2ErrorCode.ProtocolError;
        Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(goAway.Payload) & int.MaxValue); // no stream of the listener's was processed
        Assert.Equal(expected, (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(goAway.Payload.AsSpan(4)));
        Assert.Contains(expected.ToString(), await LostReasonAsync(channel));
    }

    [Fact]
    public async Task Data_beyond_the_window_the_client_advertised_must_lose_the_channel_naming_flow_control()
    {
        await using var listener = new ScriptedListener();
        using var dialer = Dialer(Patient with { Http2StreamWindowSize = 100_000 });
        var opening = dialer.OpenChannelAsync(listener.Address);
        var connection = await listener.AcceptAsync();
        var window = (int)(await connection.ReadOpeningAsync())[Http2Setting.InitialWindowSize];
        await connection.SendAsync(Http2ControlFrame.Settings(), RawFrame.Response(200));
        await using var channel = await opening.WithTimeout();

        // The whole window is the listener's to use: nobody reads, so no credit comes back.
        for (var sent = 0; sent < window; sent += Http2FrameHeader.MinMaxFrameSize)
        {
            await connection.SendAsync(RawFrame.Data(new byte[Math.Min(Http2FrameHeader.MinMaxFrameSize, window - sent)]));
        }

        await PingAsync(connection);
        Assert.False(channel.Aborted.IsCancellationRequested, "the window itself must be accepted");

        await connection.SendAsync(RawFrame.Data(new byte[1]));

        Assert.Contains("FlowControlError", await LostReasonAsync(channel));
    }

    [Fact]
    public async Task A_reset_from_the_listener_mid_stream_must_lose_the_channel_naming_the_reset()
    {
        await using var listener = new ScriptedListener();
        using var dialer = Dialer();
        var (channel, connection) = await OpenAsync(dialer, listener);
        await using var _ = channel;
        await connection.SendAsync(RawFrame.Data("first"u8));
        var first = await channel.Input.ReadAtLeastAsync(5).AsTask().WithTimeout();
        channel.Input.AdvanceTo(first.Buffer.End);

        await connection.SendAsync(Http2ControlFrame.RstStream(1, Http2ErrorCode.InternalError));

        var reason = await LostReasonAsync(channel);
        Assert.Contains("reset the stream", reason);
        Assert.Contains("InternalError", reason);
    }

    [Fact]
    public async Task A_goaway_with_an_error_must_lose_the_channel_naming_the_error_and_its_debug_text()
    {
        await using var listener = new ScriptedListener();
        using var dialer = Dialer();
        var (channel, connection) = await OpenAsync(dialer, listener);
        await using var _ = channel;

        await connection.SendAsync(RawFrame.GoAway(1, Http2ErrorCode.EnhanceYourCalm, "too many pings"));

        var reason = await LostReasonAsync(channel);
        Assert.Contains("GOAWAY EnhanceYourCalm", reason);
        Assert.Contains("too many pings", reason);
    }

    [Fact]
    public async Task A_graceful_goaway_covering_the_stream_must_let_it_go_on_both_ways()
    {
        await using var listener = new ScriptedListener();
        using var dialer = Dialer();
        var (channel, connection) = await OpenAsync(dialer, listener);
        await using var _ = channel;

        await connection.SendAsync(RawFrame.GoAway(1, Http2ErrorCode.NoError, "shutting down"));
        await channel.Output.WriteAsync("still sending"u8.ToArray()).AsTask().WithTimeout();
        var sent = await connection.ReadFrameAsync(frame => frame.Header.Type == Http2FrameType.Data);
        await connection.SendAsync(RawFrame.Data("still answering"u8, endStream: true));

        Assert.Equal("still sending", Encoding.ASCII.GetString(sent.Payload));
        Assert.Equal("still answering", Encoding.ASCII.GetString(await ReadToEndAsync(channel.Input)));
        Assert.False(channel.Aborted.IsCancellationRequested);
    }

    [Fact]
    public async Task A_ping_from_the_listener_must_be_acknowledged_with_the_same_eight_bytes()
    {
        await using var listener = new ScriptedListener();
        using var dialer = Dialer();
        var (channel, connection) = await OpenAsync(dialer, listener);
        await using var _ = channel;

        var opaque = "scripted"u8.ToArray();
        await connection.SendAsync(RawFrame.Frame(Http2FrameType.Ping, Http2Flags.None, 0, opaque));

        var ack = await connection.ReadFrameAsync(frame => frame.Header.Type == Http2FrameType.Ping && frame.Header.Has(Http2Flags.Ack));
        Assert.Equal(0, ack.Header.StreamId);
        Assert.Equal(opaque, ack.Payload);
    }

    [Fact]
    public async Task The_client_must_send_within_the_listeners_window_and_frame_size()
    {
        const int InitialWindow = 1000, MaxFrameSize = 20_000;
        await using var listener = new ScriptedListener();
        using var dialer = Dialer();
        var opening = dialer.OpenChannelAsync(listener.Address);
        var connection = await listener.AcceptAsync();
        await connection.ReadOpeningAsync();
        await connection.SendAsync(
            Http2ControlFrame.Settings((Http2Setting.InitialWindowSize, (uint)InitialWindow), (Http2Setting.MaxFrameSize, (uint)MaxFrameSize)),
            RawFrame.Response(200));
        await using var channel = await opening.WithTimeout();
        var body = new byte[50_000];
        new Random(7).NextBytes(body);

        await channel.Output.WriteAsync(body).AsTask().WithTimeout();

        var received = new List<ScriptedFrame>();
        await ReadDataAsync(connection, received, InitialWindow);
        Assert.Equal(InitialWindow, received.Sum(frame => frame.Payload.Length));

        // Had the client overrun the window, its DATA would have been sent ahead of the PING's answer.
        await PingAsync(connection, onOtherFrame: frame => Assert.NotEqual(Http2FrameType.Data, frame.Header.Type));

        await connection.SendAsync(Http2ControlFrame.WindowUpdate(1, body.Length - InitialWindow));
        await ReadDataAsync(connection, received, body.Length);

        Assert.Equal(body, received.SelectMany(frame => frame.Payload).ToArray());
        Assert.All(received, frame => Assert.InRange(frame.Payload.Length, 1, MaxFrameSize));
        Assert.Contains(received, frame => frame.Payload.Length == MaxFrameSize);
    }

    [Fact]
    public async Task A_listener_that_goes_silent_must_be_lost_by_the_keep_alive_ping()
    {
        var options = Loopback.DefaultOptions with { KeepAlivePingDelay = TimeSpan.FromSeconds(1), KeepAlivePingTimeout = TimeSpan.FromSeconds(1) };
        await using var listener = new ScriptedListener();
        using var dialer = Dialer(options);
        var (channel, _) = await OpenAsync(dialer, listener);
        await using var __ = channel;

        // From here on the listener neither reads nor writes; its socket stays open.
        var stopwatch = Stopwatch.StartNew();
        var reason = await LostReasonAsync(channel);
        var noticed = stopwatch.Elapsed;

        output.WriteLine($"silence noticed after {noticed.TotalMilliseconds:0} ms");
        Assert.Contains("keep-alive PING", reason);
        // The client checks four times per delay; the slack is for a machine busy with the rest of the suite.
        var bound = TestTimeouts.Scaled(options.KeepAlivePingDelay + options.KeepAlivePingTimeout + TimeSpan.FromSeconds(2));
        Assert.True(noticed < bound, $"noticed after {noticed}, above {bound}");
    }

    [Fact]
    public async Task A_connection_closed_inside_a_frame_must_lose_the_channel()
    {
        await using var listener = new ScriptedListener();
        using var dialer = Dialer();
        var (channel, connection) = await OpenAsync(dialer, listener);
        await using var _ = channel;

        var truncated = RawFrame.Data(new byte[100])[..(Http2FrameHeader.Size + 10)];
        await connection.SendAsync(truncated);
        connection.CloseOutput();

        Assert.Contains("inside a frame", await LostReasonAsync(channel));
    }

    [Fact]
    public async Task A_listener_answering_in_http_1_must_fail_the_open_quoting_its_answer()
    {
        await using var listener = new ScriptedListener();
        using var dialer = Dialer();
        var opening = dialer.OpenChannelAsync(listener.Address);
        var connection = await listener.AcceptAsync();
        await connection.ReadOpeningAsync();

        await connection.SendAsync("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray());
        connection.CloseOutput();

        var failure = await Assert.ThrowsAsync<ChannelConnectException>(() => opening.WithTimeout());
        output.WriteLine(failure.Message);
        Assert.Contains("does not speak HTTP/2", failure.Message);
        Assert.Contains("HTTP/1.1 400 Bad Request", failure.Message);
        Assert.Equal(1, dialer.Stats.DialFailures);
    }

    [Fact]
    public async Task A_listener_whose_first_frame_is_not_settings_must_fail_the_open()
    {
        await using var listener = new ScriptedListener();
        using var dialer = Dialer();
        var opening = dialer.OpenChannelAsync(listener.Address);
        var connection = await listener.AcceptAsync();
        await connection.ReadOpeningAsync();

        await connection.SendAsync(RawFrame.Response(200));

        var failure = await Assert.ThrowsAsync<ChannelConnectException>(() => opening.WithTimeout());
        Assert.Contains("instead of a SETTINGS frame", failure.Message);
    }

    private MeshDialer Dialer(TransportOptions? options = null) => new("dialer", options ?? Patient, _log);

    // The plain opening: the listener reads the client's, answers with its SETTINGS and a 200.
    private static async Task<(MeshChannel Channel, ScriptedConnection Connection)> OpenAsync(MeshDialer dialer, ScriptedListener listener)
    {
        var opening = dialer.OpenChannelAsync(listener.Address);
        var connection = await listener.AcceptAsync();
        await connection.ReadOpeningAsync();
        await connection.SendAsync(Http2ControlFrame.Settings(), RawFrame.Response(200));
        return (await opening.WithTimeout(), connection);
    }

    // Lost, not hung: Aborted fires, and reading on past what had already arrived throws, naming why.
    private static async Task<string> LostReasonAsync(MeshChannel channel)
    {
        await ChannelFailureSpec.Aborted(channel).WithTimeout();
        var closed = await Assert.ThrowsAsync<ChannelClosedException>(async () =>
        {
            while (true)
            {
                var result = await channel.Input.ReadAsync().AsTask().WithTimeout();
                channel.Input.AdvanceTo(result.Buffer.End);
                Assert.False(result.IsCompleted, "the input ended in order");
            }
        });
        return closed.Message;
    }

    // A round trip through the client's read loop: everything sent before the PING has been taken when its ACK comes.
    private static async Task PingAsync(ScriptedConnection connection, Action<ScriptedFrame>? onOtherFrame = null)
    {
        var opaque = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(opaque, 0x5c1ad7ed);
        await connection.SendAsync(RawFrame.Frame(Http2FrameType.Ping, Http2Flags.None, 0, opaque));
        await connection.ReadFrameAsync(frame =>
        {
            if (frame.Header.Type == Http2FrameType.Ping && frame.Header.Has(Http2Flags.Ack) && frame.Payload.AsSpan().SequenceEqual(opaque))
            {
                return true;
            }

            onOtherFrame?.Invoke(frame);
            return false;
        });
    }

    private static async Task ReadDataAsync(ScriptedConnection connection, List<ScriptedFrame> received, int total)
    {
        while (received.Sum(frame => frame.Payload.Length) < total)
        {
            received.Add(await connection.ReadFrameAsync(frame => frame.Header.Type == Http2FrameType.Data));
        }
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
