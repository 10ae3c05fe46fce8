using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Authentication;

namespace MeshActors.Transport.Http2;

/// <summary>
/// The dialer's side of one HTTP/2 connection carrying exactly one stream: a channel. It speaks just the client subset
/// of RFC 9113 a channel needs (one request, flow control both ways, PING, RST_STREAM, GOAWAY), over cleartext with
/// prior knowledge or over TLS with ALPN "h2".
/// </summary>
/// <remarks>
/// <para>Why not SocketsHttpHandler: its request body is framed 16 KB at a time, each frame handed to the connection's
/// writer and awaited, and copied twice on the way; data flowing from the dialer moved at half the speed of data
/// flowing to it. Here the channel writes into a pipe and one loop sends what gathered as DATA frames whose payloads are
/// the pipe's own buffers (one gathered socket write, no copy); received DATA is copied once, into the channel's input.</para>
/// <para>One stream per connection keeps it small: no stream table, no priorities, and the connection's flow-control
/// window moves with the stream's. A listener limits streams per connection; this side never needs more than one.</para>
/// </remarks>
internal sealed partial class Http2ClientConnection : IAsyncDisposable
{
    private const int StreamId = 1;

    // The protocol's initial windows and frame size, until the listener's SETTINGS say otherwise (RFC 9113 6.5.2).
    private const int DefaultWindow = 65_535;

    // What one gathered socket write carries at most: enough to amortize the system call, little enough that the
    // channel's writer refills the pipe meanwhile.
    private const int MaxBytesPerSend = 1024 * 1024;

    private const int SendBufferBytes = 4 * 1024 * 1024;

    // How many unsent bytes the channel may write ahead of the socket before its flushes wait.
    private const int OutputPauseBytes = 1024 * 1024;

    // How long a finished connection stays open for the listener's handler to read to the end of what this side sent:
    // ample, as that is at most a stream window.
    private static readonly TimeSpan ClosingGrace = TimeSpan.FromSeconds(5);

    // How long a connection error's GOAWAY may wait for the write loop to stop, then for the socket to take it.
    private static readonly TimeSpan GoAwayGrace = TimeSpan.FromSeconds(1);

    private readonly Socket _socket;
    private readonly Stream _transport;
    private readonly PipeReader _transportInput;
    private readonly Pipe _output;
    private readonly Pipe _input;
    private readonly ConcurrentQueue<byte[]> _control = new();

    /// <summary>Control frames that may wait unsent before a listener that keeps asking for acknowledgements is cut off.</summary>
    private const int MaxUnsentAcknowledgements = 4096;
    private readonly WakeSignal _wake = new();
    private readonly HpackDecoder _headerDecoder = new();
    private readonly CancellationTokenSource _lost = new();
    private readonly TaskCompletionSource<Http2Response> _response = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _receiveWindow;
    private readonly TimeSpan _pingDelay;
    private readonly TimeSpan _pingTimeout;
    private ITimer? _keepAlive;
    private Task _reading = Task.CompletedTask;
    private Task _writing = Task.CompletedTask;
    private string? _lostReason;
    private int _closing;
    private volatile bool _resetRequested;

    private Http2ClientConnection(Socket socket, Stream transport, int receiveWindow, TimeSpan pingDelay, TimeSpan pingTimeout)
    {
        _socket = socket;
        _transport = transport;
        _receiveWindow = receiveWindow;
        _receiveAvailable = receiveWindow;
        _pingDelay = pingDelay;
        _pingTimeout = pingTimeout;
        _transportInput = PipeReader.Create(transport, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
        _output = new Pipe(new PipeOptions(
            pauseWriterThreshold: OutputPauseBytes, resumeWriterThreshold: OutputPauseBytes / 2, minimumSegmentSize: 64 * 1024,
            useSynchronizationContext: false));

        // Never paused: the stream's flow-control window is what bounds it. Both pipes hand over to the pool: running the
        // channel's loops inline on the connection's (or the other way round) measured slower for many small messages.
        // 64 KB segments: with the default 4 KB, a megabyte in flight outran the shared array pool, and each 1 MB
        // message allocated 0.4 MB more (1.3-1.9 against 1.9-2.3 GB/s listener to dialer).
        _input = new Pipe(new PipeOptions(pauseWriterThreshold: 0, minimumSegmentSize: 64 * 1024, useSynchronizationContext: false));
    }

    /// <summary>What the listener sends on the stream: the response body. Report what is read with <see cref="ReturnCredit"/>.</summary>
    public PipeReader Input => _input.Reader;

    /// <summary>What this side sends on the stream: the request body. Completing it ends the stream (END_STREAM).</summary>
    public PipeWriter Output => _output.Writer;

    /// <summary>Fires when the stream or the connection ends other than in order; <see cref="LostReason"/> says why.</summary>
    public CancellationToken Lost => _lost.Token;

    /// <summary>Completes once the connection is closed and its socket released.</summary>
    public Task Closed => _reading;

    /// <summary>Why the connection was lost, once <see cref="Lost"/> fired.</summary>
    public string? LostReason => Volatile.Read(ref _lostReason);

    /// <summary>Connects to <paramref name="remote"/> (with TLS when <paramref name="tls"/> is set) and opens the stream with <paramref name="headers"/>; returns once the response headers arrived.</summary>
    /// <exception cref="IOException">The connection failed, or the listener does not speak HTTP/2.</exception>
    public static async Task<Http2ClientConnection> OpenAsync(
        DnsEndPoint remote, SslClientAuthenticationOptions? tls, RequestHeaders headers, int receiveWindow, TimeSpan pingDelay, TimeSpan pingTimeout,
        CancellationToken cancellationToken)
    {
        // A 4 MB send buffer: 1 MB messages to the listener sometimes run in a mode at twice the CPU per byte (0.9-1.1
        // instead of 1.7-1.9 GB/s); with the kernel's default buffer it took 1 of 6 runs of that figure alone, with this
        // one none of 14 (it still shows after other figures in the same process). The kernel holds that memory only
        // while the listener lags.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, SendBufferSize = SendBufferBytes };
        Http2ClientConnection? connection = null;
        try
        {
            await socket.ConnectAsync(remote, cancellationToken).ConfigureAwait(false);
            Stream transport = new NetworkStream(socket, ownsSocket: false);
            if (tls is not null)
            {
                var ssl = new SslStream(transport, leaveInnerStreamOpen: false);
                transport = ssl;
                try
                {
                    await ssl.AuthenticateAsClientAsync(tls, cancellationToken).ConfigureAwait(false);
                }
                catch (AuthenticationException ex)
                {
                    throw new IOException($"The TLS handshake with the listener failed: {ex.Message}", ex);
                }

                if (ssl.NegotiatedApplicationProtocol != SslApplicationProtocol.Http2)
                {
                    throw new IOException("The listener did not agree to HTTP/2 over TLS (ALPN h2).");
                }
            }

            connection = new Http2ClientConnection(socket, transport, receiveWindow, pingDelay, pingTimeout);
            await connection.StartAsync(headers, cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                socket.Dispose();
            }

            throw;
        }
    }

    /// <summary>The listener's answer to the request: its status and headers.</summary>
    public Task<Http2Response> Response => _response.Task;

    /// <summary>Resets the stream (RST_STREAM, CANCEL) and closes the connection; reads and writes of the stream fail.</summary>
    public void Reset()
    {
        if (!TryStartClosing())
        {
            return;
        }

        _resetRequested = true;
        _control.Enqueue(Http2ControlFrame.RstStream(StreamId, Http2ErrorCode.Cancel));
        AbandonOutput(new IOException("The channel was aborted."));

        // The read loop fails the input: it is the input's only writer.
        _transportInput.CancelPendingRead();
    }

    /// <summary>
    /// Ends the stream in order once its output is sent; the connection closes when the listener closes it, or after a
    /// grace period (<see cref="ClosingGrace"/>). What the listener still sends is read and dropped meanwhile.
    /// </summary>
    /// <remarks>
    /// No reset, even when the listener is still sending: control frames go ahead of DATA, so a reset would overtake
    /// the output still to send, and a listener stops reading the request body at a reset. The listener ends its side
    /// once it reads this side's end.
    /// </remarks>
    public void Close()
    {
        if (!TryStartClosing())
        {
            return;
        }

        Wake();
    }

    /// <summary>Closes the connection at once; the channel hears of it through <see cref="Lost"/>.</summary>
    public void Abort(string reason) => Fail(reason);

    public async ValueTask DisposeAsync()
    {
        Fail("the connection was disposed", notify: false);
        await Task.WhenAll(_reading, _writing).ConfigureAwait(false);
        await CleanUpAsync().ConfigureAwait(false);
    }

    private async Task StartAsync(RequestHeaders headers, CancellationToken cancellationToken)
    {
        // The preface, our settings, the connection window and the request go out in one write, before either loop runs.
        var opening = new ArrayBufferWriter<byte>(512);
        opening.Write(Http2FrameHeader.Preface);
        opening.Write(Http2ControlFrame.Settings(
            (Http2Setting.EnablePush, 0u),
            (Http2Setting.InitialWindowSize, (uint)_receiveWindow),
            (Http2Setting.MaxHeaderListSize, MaxHeaderListSize)));
        if (_receiveWindow > DefaultWindow)
        {
            opening.Write(Http2ControlFrame.WindowUpdate(0, _receiveWindow - DefaultWindow));
        }

        WriteHeaders(headers, opening);
        await _transport.WriteAsync(opening.WrittenMemory, cancellationToken).ConfigureAwait(false);
        await _transport.FlushAsync(cancellationToken).ConfigureAwait(false);

        _reading = ReadLoopAsync();
        _writing = WriteLoopAsync();
        // Four checks per delay or timeout, and at least one a second for the grace period after the stream ended.
        var tick = KeepsAlive ? TimeSpan.FromTicks(Math.Min(_pingDelay.Ticks, _pingTimeout.Ticks) / 4) : TimeSpan.FromSeconds(1);
        tick = TimeSpan.FromTicks(Math.Clamp(tick.Ticks, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond));
        _keepAlive = TimeProvider.System.CreateTimer(static state => ((Http2ClientConnection)state!).CheckAlive(), this, tick, tick);

        using var cancel = cancellationToken.UnsafeRegister(static state => ((Http2ClientConnection)state!).Fail("the opening was cancelled", notify: false), this);
        await _response.Task.ConfigureAwait(false);
    }

    // A delay or timeout that is not positive, or longer than a day, turns the keep-alive PING off (as Kestrel's
    // infinite ones do).
    private bool KeepsAlive =>
        _pingDelay > TimeSpan.Zero && _pingTimeout > TimeSpan.Zero && _pingDelay < TimeSpan.FromDays(1) && _pingTimeout < TimeSpan.FromDays(1);

    private bool TryStartClosing() => Interlocked.Exchange(ref _closing, 1) == 0;

    private bool IsClosing => Volatile.Read(ref _closing) != 0;

    // The loops' one way to say the connection is over: the stream's reader and writer fail, the loops end, and the
    // channel hears of it through Lost unless this side ended it. The socket stays open when the read loop still has a
    // GOAWAY to send on it (SendGoAwayAsync closes it then).
    private void Fail(string reason, bool notify = true, bool closeSocket = true)
    {
        if (Interlocked.CompareExchange(ref _lostReason, reason, null) is not null)
        {
            return;
        }

        Interlocked.Exchange(ref _closing, 1);
        var error = new IOException(reason);
        _response.TrySetException(error);
        if (notify)
        {
            _lost.Cancel();
        }

        AbandonOutput(error);
        _transportInput.CancelPendingRead();
        if (closeSocket)
        {
            ShutDownSocket();
        }
    }

    private void ShutDownSocket()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed: the loops see it either way.
        }
    }

    /// <summary>The channel completed its output: a write loop waiting for credit sends END_STREAM without any.</summary>
    public void OnOutputCompleted() => Wake();

    private void Wake()
    {
        _wake.Wake();
        if (!_outputEnded)
        {
            _output.Reader.CancelPendingRead();
        }
    }

    /// <summary>
    /// The bytes of this side the listener's TCP has acknowledged (Linux's <c>tcp_info.tcpi_bytes_acked</c>, a 64-bit
    /// count at offset 120 since Linux 4.1); null where that cannot be read. A hung listener stops taking them once its
    /// buffers are full; one still reading takes them however slow the link.
    /// </summary>
    private long? BytesAcknowledged()
    {
        const int IpProtocolTcp = 6, TcpInfo = 11, BytesAckedOffset = 120;
        if (!OperatingSystem.IsLinux())
            return null;
        Span<byte> info = stackalloc byte[BytesAckedOffset + sizeof(long)];
        try
        {
            return _socket.GetRawSocketOption(IpProtocolTcp, TcpInfo, info) == info.Length ? MemoryMarshal.Read<long>(info[BytesAckedOffset..]) : null;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return null;
        }
    }

    private void CheckAlive()
    {
        if (Volatile.Read(ref _lostReason) is not null)
        {
            return;
        }

        var now = Environment.TickCount64;
        var finished = Volatile.Read(ref _finishedSending);
        if (finished != 0 && now - finished > ClosingGrace.TotalMilliseconds)
        {
            Fail("the stream ended", notify: false);
            return;
        }

        if (!KeepsAlive)
        {
            return;
        }

        // Credit goes back per half window, which over a slow link takes the listener seconds to send: a reader that
        // keeps reading would send it nothing all that while, and its keep-alive take this side for hung (its PING
        // comes behind its own data). What was read goes back at least every half ping delay.
        if (Volatile.Read(ref _consumed) > 0 && now - Volatile.Read(ref _creditSent) >= _pingDelay.TotalMilliseconds / 2)
        {
            GiveCredit();
        }

        var lastReceived = Volatile.Read(ref _lastReceived);
        var pingSent = Volatile.Read(ref _pingSent);
        if (pingSent != 0)
        {
            // Any frame answers: a busy connection is never cut by a PING ACK queued behind data.
            if (lastReceived >= pingSent)
            {
                Volatile.Write(ref _pingSent, 0);
            }
            else if (now - pingSent > _pingTimeout.TotalMilliseconds)
            {
                if (BytesAcknowledged() is { } acknowledged && acknowledged > _ackedAtPing)
                {
                    // The PING waits behind what was sent before it, which the listener's host still takes (a slow
                    // link, a full send buffer): it is alive, and the PING's clock starts again.
                    _ackedAtPing = acknowledged;
                    Volatile.Write(ref _pingSent, now);
                    return;
                }

                Fail($"the listener sent nothing for {now - lastReceived} ms and did not answer a keep-alive PING within {_pingTimeout.TotalMilliseconds:0} ms");
            }
        }
        else if (now - lastReceived >= _pingDelay.TotalMilliseconds)
        {
            _ackedAtPing = BytesAcknowledged() ?? 0;
            Volatile.Write(ref _pingSent, now);
            _control.Enqueue(Http2ControlFrame.Ping(now, ack: false));
            Wake();
        }
    }
}

/// <summary>The listener's answer: its status and headers (names as sent, lower-case in HTTP/2).</summary>
internal sealed record Http2Response(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    public string? Header(string name)
    {
        foreach (var (key, value) in Headers)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return null;
    }
}
