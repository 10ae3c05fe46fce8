using System.Buffers;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace MeshActors.Transport.Http2;

/// <summary>The write side: one loop sends the control frames, then as much of the stream's output as the windows allow.</summary>
internal sealed partial class Http2ClientConnection
{
    // Changed by the write loop (DATA sent) and the read loop (WINDOW_UPDATE, SETTINGS); may go below zero when the
    // listener shrinks its initial window.
    private long _connectionSendWindow = DefaultWindow;
    private long _streamSendWindow = DefaultWindow;
    private volatile int _peerMaxFrameSize = Http2FrameHeader.MinMaxFrameSize;
    private volatile bool _outputEnded; // END_STREAM sent, or the output abandoned: no more DATA
    private Exception? _outputAbandoned;

    // One gathered socket write: the frames' nine-byte headers come from here, their payloads are the pipe's buffers.
    private readonly List<ArraySegment<byte>> _gather = [];
    private readonly byte[] _dataHeaders = new byte[(MaxBytesPerSend / Http2FrameHeader.MinMaxFrameSize + 1) * Http2FrameHeader.Size];
    private readonly byte[] _staging = new byte[64 * 1024];

    private long SendCredit => Math.Min(Volatile.Read(ref _connectionSendWindow), Volatile.Read(ref _streamSendWindow));

    // The channel's output is dropped (a reset, a lost connection); the write loop completes the pipe, which it owns.
    private void AbandonOutput(Exception reason)
    {
        Interlocked.CompareExchange(ref _outputAbandoned, reason, null);
        Wake();
    }

    private async Task WriteLoopAsync()
    {
        var output = _output.Reader;
        try
        {
            while (Volatile.Read(ref _lostReason) is null)
            {
                if (!_outputEnded && Volatile.Read(ref _outputAbandoned) is { } abandoned)
                {
                    _outputEnded = true;
                    await output.CompleteAsync(abandoned).ConfigureAwait(false);
                }

                if (!_outputEnded && SendCredit > 0)
                {
                    var result = await output.ReadAsync().ConfigureAwait(false);
                    if (Volatile.Read(ref _outputAbandoned) is not null)
                    {
                        output.AdvanceTo(result.Buffer.Start);
                        continue;
                    }

                    // The control frames before the credit is read: a SETTINGS acknowledged in this write has already
                    // been applied to the windows, so no DATA behind its ACK is sized by the windows it replaced.
                    var buffer = result.Buffer;
                    GatherControlFrames();
                    var credit = Math.Min(SendCredit, MaxBytesPerSend);
                    if (credit <= 0)
                    {
                        // A SETTINGS lowered the initial window below what is in flight while this loop waited for
                        // output (RFC 9113 6.9.2): the control frames go out, the data waits for credit.
                        output.AdvanceTo(buffer.Start);
                        continue;
                    }

                    var sending = buffer.Slice(0, Math.Min(buffer.Length, credit));
                    var endStream = result.IsCompleted && sending.Length == buffer.Length;
                    GatherData(sending, endStream);

                    // Off the windows before the send: a listener crediting the first frames while the last are still
                    // being written must not have its credit added to windows that still count them.
                    Interlocked.Add(ref _connectionSendWindow, -sending.Length);
                    Interlocked.Add(ref _streamSendWindow, -sending.Length);
                    await SendGatheredAsync().ConfigureAwait(false);

                    // All of it sent: wait for more. Held back by the windows or the write size: the rest is read again.
                    output.AdvanceTo(sending.End, sending.Length == buffer.Length ? buffer.End : sending.End);
                    if (endStream)
                    {
                        _outputEnded = true;
                        await output.CompleteAsync().ConfigureAwait(false);
                    }

                    continue;
                }

                if (!_outputEnded && output.TryRead(out var ended))
                {
                    // No credit, but the channel's output completed with nothing left to send: END_STREAM goes in an
                    // empty DATA frame, which flow control does not count (RFC 9113 6.9.1). Else it waits for credit.
                    if (ended.IsCompleted && ended.Buffer.IsEmpty)
                    {
                        output.AdvanceTo(ended.Buffer.End);
                        GatherData(ended.Buffer, endStream: true);
                        _outputEnded = true;
                        await output.CompleteAsync().ConfigureAwait(false);
                    }
                    else
                    {
                        output.AdvanceTo(ended.Buffer.Start);
                    }
                }

                GatherControlFrames();
                if (_gather.Count > 0)
                {
                    await SendGatheredAsync().ConfigureAwait(false);
                    continue;
                }

                if (IsFinishing && _resetRequested)
                {
                    // The reset is out: nothing of the stream is left to wait for.
                    Fail("the channel was aborted", notify: false);
                    break;
                }

                if (IsFinishing)
                {
                    // Nothing more will be sent but control frames. The connection stays open until the listener closes
                    // it, or for a grace period (CheckAlive): Kestrel aborts a handler still reading what it was sent
                    // when the connection ends, even after a GOAWAY, and nothing tells when its handler is done.
                    Volatile.Write(ref _finishedSending, Environment.TickCount64);
                    continue;
                }

                var sleep = _wake.Arm();
                if (!_control.IsEmpty || Volatile.Read(ref _outputAbandoned) is not null || (!_outputEnded && SendCredit > 0)
                    || IsFinishing || Volatile.Read(ref _lostReason) is not null)
                {
                    _wake.Disarm();
                    continue;
                }

                await sleep.ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException)
        {
            Fail($"sending failed: {ex.Message}");
        }
        catch (Exception ex)
        {
            // A bug here would otherwise stop every frame of the connection, acknowledgements included, without a word.
            Fail($"the write loop failed: {ex}");
        }
        finally
        {
            if (!_outputEnded)
            {
                _outputEnded = true;
                await output.CompleteAsync(new IOException(LostReason ?? "the connection closed")).ConfigureAwait(false);
            }
        }
    }

    // Once the write loop has stopped, so that the frame cannot land inside one of its writes; a listener that does not
    // take even these bytes does not hold the socket open.
    private async Task SendGoAwayAsync(byte[] goAway)
    {
        try
        {
            if (await Task.WhenAny(_writing, Task.Delay(GoAwayGrace)).ConfigureAwait(false) == _writing)
            {
                await _transport.WriteAsync(goAway).AsTask().WaitAsync(GoAwayGrace).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException or TimeoutException)
        {
            // The connection is going anyway; the reason was logged with the loss.
        }
        finally
        {
            ShutDownSocket();
        }
    }

    private bool IsFinishing => _outputEnded && IsClosing && Volatile.Read(ref _finishedSending) == 0;

    private void GatherControlFrames()
    {
        while (_control.TryDequeue(out var frame))
        {
            _gather.Add(frame);
        }
    }

    // DATA frames no longer than the listener takes; the last carries END_STREAM when the output is complete (an empty
    // frame when there is nothing left to send with it).
    private void GatherData(ReadOnlySequence<byte> data, bool endStream)
    {
        if (data.IsEmpty && !endStream)
        {
            return;
        }

        var maxFrameSize = _peerMaxFrameSize;
        var header = 0;
        do
        {
            var length = (int)Math.Min(data.Length, maxFrameSize);
            var last = length == data.Length;
            new Http2FrameHeader(length, Http2FrameType.Data, last && endStream ? Http2Flags.EndStream : Http2Flags.None, StreamId)
                .Write(_dataHeaders.AsSpan(header, Http2FrameHeader.Size));
            _gather.Add(new ArraySegment<byte>(_dataHeaders, header, Http2FrameHeader.Size));
            header += Http2FrameHeader.Size;
            foreach (var segment in data.Slice(0, length))
            {
                _gather.Add(MemoryMarshal.TryGetArray(segment, out var array) ? array : segment.ToArray());
            }

            data = data.Slice(length);
        }
        while (!data.IsEmpty);
    }

    private async ValueTask SendGatheredAsync()
    {
        if (_gather.Count == 0)
        {
            return;
        }

        var length = 0;
        foreach (var piece in _gather)
        {
            length += piece.Count;
        }

        if (length > _staging.Length && _transport is NetworkStream)
        {
            await _socket.SendAsync(_gather, SocketFlags.None).ConfigureAwait(false);
        }
        else
        {
            // Small writes are copied into one buffer: a single-buffer send costs less than pinning a list of pieces.
            // TLS always stages, or it would encrypt each piece into a record of its own.
            for (var start = 0; start < _gather.Count;)
            {
                var staged = 0;
                for (; start < _gather.Count && staged + _gather[start].Count <= _staging.Length; start++)
                {
                    _gather[start].AsSpan().CopyTo(_staging.AsSpan(staged));
                    staged += _gather[start].Count;
                }

                if (staged == 0)
                {
                    await _transport.WriteAsync(_gather[start++]).ConfigureAwait(false); // a piece larger than the staging buffer
                    continue;
                }

                await _transport.WriteAsync(_staging.AsMemory(0, staged)).ConfigureAwait(false);
            }
        }

        _gather.Clear();
    }

    // The request's header block, as HEADERS and CONTINUATION frames no longer than the protocol's default frame size
    // (the listener's SETTINGS have not arrived yet).
    private static void WriteHeaders(RequestHeaders request, ArrayBufferWriter<byte> output)
    {
        var block = new ArrayBufferWriter<byte>(256);
        HpackEncoder.WriteIndexed(3, block); // :method: POST
        HpackEncoder.WriteIndexed(request.Scheme == "https" ? 7 : 6, block); // :scheme
        HpackEncoder.WriteLiteral(1, request.Authority, block); // :authority
        HpackEncoder.WriteLiteral(4, request.Path, block); // :path
        foreach (var (name, value) in request.Fields)
        {
            HpackEncoder.WriteLiteral(name, value, block);
        }

        var fragment = block.WrittenSpan;
        var type = Http2FrameType.Headers;
        do
        {
            var length = Math.Min(fragment.Length, Http2FrameHeader.MinMaxFrameSize);
            var flags = length == fragment.Length ? Http2Flags.EndHeaders : Http2Flags.None;
            new Http2FrameHeader(length, type, flags, StreamId).Write(output.GetSpan(Http2FrameHeader.Size));
            output.Advance(Http2FrameHeader.Size);
            output.Write(fragment[..length]);
            fragment = fragment[length..];
            type = Http2FrameType.Continuation;
        }
        while (!fragment.IsEmpty);
    }
}
