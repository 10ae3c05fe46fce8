using System.Buffers.Binary;
using MeshActors.Transport;
using MeshActors.Transport.Http2;
using Xunit.Abstractions;

namespace MeshActors.Tests.Transport.Http2;

/// <summary>
/// The dialer's HTTP/2 client against listeners that use flow-control moves RFC 9113 allows and Kestrel's defaults never
/// make: a SETTINGS_INITIAL_WINDOW_SIZE that shrinks the open stream's window below what is already in flight, and
/// windows kept at their 2^31-1 maximum by crediting every frame at once.
/// </summary>
public sealed class Http2ClientConnectionFlowControlSpec(ITestOutputHelper output)
{
    private static readonly TransportOptions Patient = Loopback.DefaultOptions with { KeepAlivePingDelay = TimeSpan.FromMinutes(1) };

    private readonly TestLog _log = new(output);

    [Fact]
    public async Task A_settings_shrinking_the_window_below_what_is_in_flight_must_be_acknowledged_and_sending_must_resume_on_credit()
    {
        const int InFlight = 40_000, Rounds = 10;
        await using var listener = new ScriptedListener();
        using var dialer = new MeshDialer("dialer", Patient, _log);
        var (channel, connection) = await OpenAsync(dialer, listener, Http2ControlFrame.Settings(), RawFrame.Response(200));
        await using var _ = channel;

        // Rounds, as the client's write loop must be idle (waiting for output) when the SETTINGS comes, and a PING round
        // trip makes that likely but not certain.
        for (var round = 0; round < Rounds; round++)
        {
            // 40,000 of the 65,535 the listener allows sent and not credited back: the stream's window is 25,535.
            await channel.Output.WriteAsync(new byte[InFlight]).AsTask().WithTimeout();
            var received = 0;
            while (received < InFlight)
            {
                received += (await connection.ReadFrameAsync(frame => frame.Header.Type == Http2FrameType.Data)).Payload.Length;
            }

            // Its ACK comes from the client's write loop: once here, that loop is done with the DATA.
            await PingAsync(connection);

            // RFC 9113 6.9.2: an initial window of 0 leaves the open stream's window at -40,000, and the client must wait
            // for credit to bring it above zero; the SETTINGS itself must be acknowledged (6.5.3).
            await connection.SendAsync(Http2ControlFrame.Settings((Http2Setting.InitialWindowSize, 0u)));
            await connection.ReadFrameAsync(frame => frame.Header.Type == Http2FrameType.Settings && frame.Header.Has(Http2Flags.Ack));

            // Back to where the round began: an initial window of 65,535 and the 40,000 credited on both windows.
            await connection.SendAsync(
                Http2ControlFrame.Settings((Http2Setting.InitialWindowSize, 65_535u)),
                Http2ControlFrame.WindowUpdate(0, InFlight),
                Http2ControlFrame.WindowUpdate(1, InFlight));
            await connection.ReadFrameAsync(frame => frame.Header.Type == Http2FrameType.Settings && frame.Header.Has(Http2Flags.Ack));
        }

        Assert.False(channel.Aborted.IsCancellationRequested);
    }

    [Fact]
    public async Task A_listener_keeping_its_windows_at_the_maximum_by_crediting_each_frame_must_not_be_accused_of_overflowing_them()
    {
        const int Rounds = 100, Chunk = 1024 * 1024;
        await using var listener = new ScriptedListener();
        using var dialer = new MeshDialer("dialer", Patient, _log);

        // Both windows at 2^31-1 (RFC 9113 6.9.1's maximum); the listener credits each DATA frame as soon as it has it,
        // so the windows the client may use never exceed the maximum.
        var (channel, connection) = await OpenAsync(
            dialer,
            listener,
            Http2ControlFrame.Settings((Http2Setting.InitialWindowSize, (uint)int.MaxValue)),
            Http2ControlFrame.WindowUpdate(0, int.MaxValue - 65_535),
            RawFrame.Response(200));
        await using var _ = channel;

        // Rounds of one megabyte, each sent into an idle connection: the listener credits the first frames of a write
        // while the client may still be sending its last ones.
        var chunk = new byte[Chunk];
        var received = 0;
        for (var round = 0; round < Rounds; round++)
        {
            var sending = channel.Output.WriteAsync(chunk).AsTask();
            while (received < (round + 1) * Chunk)
            {
                var frame = await connection.ReadFrameAsync();
                if (frame.Header.Type == Http2FrameType.GoAway)
                {
                    Assert.Fail($"the client sent GOAWAY {(Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(frame.Payload.AsSpan(4))} after {received} bytes");
                }

                if (frame.Header.Type == Http2FrameType.Data && frame.Payload.Length > 0)
                {
                    received += frame.Payload.Length;
                    await connection.SendAsync(
                        Http2ControlFrame.WindowUpdate(0, frame.Payload.Length),
                        Http2ControlFrame.WindowUpdate(1, frame.Payload.Length));
                }
            }

            await sending.WithTimeout();
        }

        Assert.False(channel.Aborted.IsCancellationRequested);
    }

    [Fact]
    public async Task A_settings_raising_the_open_streams_window_above_the_maximum_must_be_refused_with_flow_control_error()
    {
        await using var listener = new ScriptedListener();
        using var dialer = new MeshDialer("dialer", Patient, _log);
        var (channel, connection) = await OpenAsync(
            dialer, listener, Http2ControlFrame.Settings(), RawFrame.Response(200), Http2ControlFrame.WindowUpdate(1, int.MaxValue - 65_535));
        await using var _ = channel;

        // The stream's window is at 2^31-1: one more byte of initial window takes it over (RFC 9113 6.9.2).
        await connection.SendAsync(Http2ControlFrame.Settings((Http2Setting.InitialWindowSize, 65_536u)));

        var goAway = await connection.ReadFrameAsync(frame => frame.Header.Type == Http2FrameType.GoAway);
        Assert.Equal(Http2ErrorCode.FlowControlError, (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(goAway.Payload.AsSpan(4)));
    }

    // The listener answers the client's opening with these frames, its SETTINGS and the response among them.
    private static async Task<(MeshChannel Channel, ScriptedConnection Connection)> OpenAsync(MeshDialer dialer, ScriptedListener listener, params byte[][] answer)
    {
        var opening = dialer.OpenChannelAsync(listener.Address);
        var connection = await listener.AcceptAsync();
        await connection.ReadOpeningAsync();
        await connection.SendAsync(answer);
        return (await opening.WithTimeout(), connection);
    }

    private static async Task PingAsync(ScriptedConnection connection)
    {
        var opaque = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(opaque, 0x5c1ad7ed);
        await connection.SendAsync(RawFrame.Frame(Http2FrameType.Ping, Http2Flags.None, 0, opaque));
        await connection.ReadFrameAsync(frame =>
            frame.Header.Type == Http2FrameType.Ping && frame.Header.Has(Http2Flags.Ack) && frame.Payload.AsSpan().SequenceEqual(opaque));
    }
}
