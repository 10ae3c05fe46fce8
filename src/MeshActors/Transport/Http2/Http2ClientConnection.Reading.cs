using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;

namespace MeshActors.Transport.Http2;

/// <summary>The read side: one loop takes the listener's frames, copies the stream's DATA into its input, and answers the rest.</summary>
internal sealed partial class Http2ClientConnection
{
    // The largest frame this side accepts: it never raises SETTINGS_MAX_FRAME_SIZE above the protocol's default.
    private const int MaxReceivedFrameSize = Http2FrameHeader.MinMaxFrameSize;

    private const uint MaxHeaderListSize = 64 * 1024;

    private long _lastReceived = Environment.TickCount64;
    private long _pingSent;
    private long _ackedAtPing; // what the listener's host had acknowledged of this side's bytes when the PING went out
    private long _finishedSending;
    private long _receiveAvailable; // what the listener may still send before this side returns credit
    private long _consumed; // read by the channel, not yet returned as credit
    private long _creditSent = Environment.TickCount64; // when credit last went back
    private volatile bool _inputEnded;
    private bool _inputEnding; // END_STREAM read, the input not completed yet (read loop only)
    private string? _resetAfterInput; // a RST_STREAM NO_ERROR behind the END_STREAM, carried out once the input completed
    private int _peerInitialWindow = DefaultWindow;
    private bool _prefaceSeen;
    private bool _responseSeen;
    private int _cleanedUp;

    // A header block whose HEADERS frame lacked END_HEADERS: its CONTINUATIONs follow, and nothing else may come between.
    private ArrayBufferWriter<byte>? _headerBlock;
    private bool _headerBlockEndsStream;

    /// <summary>The channel is done with <paramref name="bytes"/> more of the input: give the listener that much room again, once half the window is.</summary>
    public void ReturnCredit(long bytes)
    {
        if (bytes > 0 && Interlocked.Add(ref _consumed, bytes) >= _receiveWindow / 2)
        {
            GiveCredit();
        }
    }

    /// <summary>Gives the listener back the room of what was read so far.</summary>
    private void GiveCredit()
    {
        var credit = (int)Interlocked.Exchange(ref _consumed, 0);
        if (credit <= 0 || _inputEnded)
        {
            return;
        }

        Volatile.Write(ref _creditSent, Environment.TickCount64);
        Interlocked.Add(ref _receiveAvailable, credit);
        _control.Enqueue(Http2ControlFrame.WindowUpdate(0, credit));
        _control.Enqueue(Http2ControlFrame.WindowUpdate(StreamId, credit));
        Wake();
    }

    private async Task ReadLoopAsync()
    {
        var input = _transportInput;
        byte[]? goAway = null;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    input.AdvanceTo(result.Buffer.Start);
                    if (LostReason is not null)
                    {
                        return;
                    }

                    if (_resetRequested && !_inputEnded)
                    {
                        _inputEnded = true;
                        await _input.Writer.CompleteAsync(new IOException("The channel was aborted.")).ConfigureAwait(false);
                    }

                    continue;
                }

                Volatile.Write(ref _lastReceived, Environment.TickCount64);
                var buffer = result.Buffer;
                var delivered = false;
                while (TryReadFrame(ref buffer, out var header, out var payload))
                {
                    delivered |= OnFrame(header, payload);
                }

                if (delivered && !_inputEnded)
                {
                    await _input.Writer.FlushAsync().ConfigureAwait(false);
                }

                if (_inputEnding && !_inputEnded && LostReason is null)
                {
                    _inputEnded = true;
                    await _input.Writer.CompleteAsync().ConfigureAwait(false);
                }

                if (_resetAfterInput is { } reset)
                {
                    _resetAfterInput = null;
                    Fail(reset);
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    // After both ends of the stream (or this side's reset) it is only the connection's end.
                    Fail(
                        buffer.IsEmpty ? "the listener closed the connection" : "the listener closed the connection inside a frame",
                        notify: !(_inputEnded && _outputEnded) && !_resetRequested);
                    return;
                }
            }
        }
        catch (Http2ConnectionException ex) when (_prefaceSeen)
        {
            // RFC 9113 5.4.1: the listener is told why, below, before the socket closes.
            goAway = Http2ControlFrame.GoAway(lastStreamId: 0, ex.Code);
            Fail($"the listener broke the HTTP/2 protocol ({ex.Code}): {ex.Message}", closeSocket: false);
        }
        catch (Http2ConnectionException ex)
        {
            Fail($"the listener does not speak HTTP/2: {ex.Message}");
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            Fail($"the connection failed: {ex.Message}", notify: !IsClosing);
        }
        catch (Exception ex)
        {
            // A defect of this reader: the channel ends with one clear loss rather than hang its opener.
            Fail($"reading the connection failed: {ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            if (!_inputEnded)
            {
                _inputEnded = true;
                await _input.Writer.CompleteAsync(new IOException(LostReason ?? "the connection closed")).ConfigureAwait(false);
            }

            // The loops are done with the socket: the write loop has ended, or ends on the shut-down socket.
            _wake.Wake();
            if (goAway is not null)
            {
                await SendGoAwayAsync(goAway).ConfigureAwait(false);
            }

            await _writing.ConfigureAwait(false);
            await CleanUpAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask CleanUpAsync()
    {
        if (Interlocked.Exchange(ref _cleanedUp, 1) != 0)
        {
            return;
        }

        _keepAlive?.Dispose();
        await _transportInput.CompleteAsync().ConfigureAwait(false);
        await _transport.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
    }

    private bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out Http2FrameHeader header, out ReadOnlySequence<byte> payload)
    {
        if (buffer.Length < Http2FrameHeader.Size)
        {
            header = default;
            payload = default;
            return false;
        }

        Span<byte> bytes = stackalloc byte[Http2FrameHeader.Size];
        buffer.Slice(0, Http2FrameHeader.Size).CopyTo(bytes);
        header = Http2FrameHeader.Read(bytes);
        if (!_prefaceSeen)
        {
            // The listener's preface is a SETTINGS frame (RFC 9113 3.4). Anything else is most likely no HTTP/2 at all,
            // an HTTP/1.1 server's "400 Bad Request" say, which read as a frame header is an absurd frame: quote it instead.
            if (header.Type != Http2FrameType.Settings || header.StreamId != 0 || header.Has(Http2Flags.Ack))
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"it began with {Quote(buffer)} instead of a SETTINGS frame");
            }

            _prefaceSeen = true;
        }

        if (header.Length > MaxReceivedFrameSize)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"a {header.Type} frame of {header.Length} bytes, above the {MaxReceivedFrameSize} this side accepts");
        }

        if (buffer.Length < Http2FrameHeader.Size + header.Length)
        {
            payload = default;
            return false;
        }

        payload = buffer.Slice(Http2FrameHeader.Size, header.Length);
        buffer = buffer.Slice(payload.End);
        return true;
    }

    // True when DATA went into the stream's input.
    private bool OnFrame(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        if (_headerBlock is not null && header.Type != Http2FrameType.Continuation)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"a {header.Type} frame inside a header block");
        }

        switch (header.Type)
        {
            case Http2FrameType.Data:
                return OnData(header, payload);
            case Http2FrameType.Headers:
                OnHeaders(header, payload);
                return false;
            case Http2FrameType.Continuation:
                OnContinuation(header, payload);
                return false;
            case Http2FrameType.Settings:
                OnSettings(header, payload);
                return false;
            case Http2FrameType.Ping:
                OnPing(header, payload);
                return false;
            case Http2FrameType.WindowUpdate:
                OnWindowUpdate(header, payload);
                return false;
            case Http2FrameType.RstStream:
                OnRstStream(header, payload);
                return false;
            case Http2FrameType.GoAway:
                OnGoAway(header, payload);
                return false;
            case Http2FrameType.PushPromise:
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "a PUSH_PROMISE, though this side disabled push");
            default:
                return false; // PRIORITY and unknown types are ignored (RFC 9113 5.5)
        }
    }

    private bool OnData(in Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        ExpectStream(header);
        if (!_responseSeen || _inputEnding)
        {
            throw new Http2ConnectionException(Http2ErrorCode.StreamClosed, _responseSeen ? "DATA after the end of the stream" : "DATA before the response headers");
        }

        if (Interlocked.Add(ref _receiveAvailable, -header.Length) < 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, $"{header.Length} bytes of DATA beyond the window this side gave");
        }

        var data = Unpad(header, payload);
        ReturnCredit(header.Length - data.Length); // padding is never read by the channel
        if (IsClosing)
        {
            ReturnCredit(data.Length); // nobody reads any more
        }
        else
        {
            foreach (var segment in data)
            {
                _input.Writer.Write(segment.Span);
            }
        }

        if (header.Has(Http2Flags.EndStream))
        {
            EndInput();
        }

        return !data.IsEmpty;
    }

    private void OnHeaders(in Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        ExpectStream(header);
        var fragment = Unpad(header, payload);
        if (header.Has(Http2Flags.Priority))
        {
            fragment = fragment.Length >= 5 ? fragment.Slice(5)
                : throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "a HEADERS frame too short for its priority");
        }

        _headerBlock = new ArrayBufferWriter<byte>(Math.Max(1, (int)fragment.Length)); // a block may start in a CONTINUATION
        _headerBlockEndsStream = header.Has(Http2Flags.EndStream);
        OnContinuation(header, fragment, endHeaders: header.Has(Http2Flags.EndHeaders));
    }

    private void OnContinuation(in Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (_headerBlock is null)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "a CONTINUATION frame outside a header block");
        }

        ExpectStream(header);
        OnContinuation(header, payload, endHeaders: header.Has(Http2Flags.EndHeaders));
    }

    private void OnContinuation(in Http2FrameHeader header, ReadOnlySequence<byte> fragment, bool endHeaders)
    {
        var block = _headerBlock!;
        if (block.WrittenCount + fragment.Length > MaxHeaderListSize)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"a header block above {MaxHeaderListSize} bytes");
        }

        foreach (var segment in fragment)
        {
            block.Write(segment.Span);
        }

        if (!endHeaders)
        {
            return;
        }

        _headerBlock = null;
        var headers = new List<KeyValuePair<string, string>>();
        try
        {
            // Every block is decoded, trailers too: the decoder's table must follow the listener's encoder.
            _headerDecoder.Decode(block.WrittenSpan, headers);
        }
        catch (HpackException ex)
        {
            throw new Http2ConnectionException(Http2ErrorCode.CompressionError, ex.Message);
        }

        OnHeaderBlock(headers, _headerBlockEndsStream);
    }

    private void OnHeaderBlock(List<KeyValuePair<string, string>> headers, bool endStream)
    {
        if (_responseSeen)
        {
            // Trailers: nothing in them matters to a channel, but they must end the stream.
            if (!endStream)
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "a second header block that does not end the stream");
            }

            EndInput();
            return;
        }

        var status = headers.Count > 0 && headers[0].Key == ":status"
            && int.TryParse(headers[0].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value is >= 100 and <= 999
                ? value
                : throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "a response without a valid :status first");
        if (status < 200)
        {
            // An interim answer (100 Continue, 103 Early Hints): the real one follows, so it cannot end the stream (RFC 9113 8.1.1).
            if (endStream)
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"an informational response ({status}) that ends the stream");
            return;
        }

        _responseSeen = true;
        _response.TrySetResult(new Http2Response(status, headers));
        if (endStream)
        {
            EndInput();
        }
    }

    // The input completes once the frames read with the END_STREAM are handled: a RST_STREAM right behind it (Kestrel
    // ends a response in order when its handler returns, even as the stream is being reset) makes it a loss instead.
    private void EndInput() => _inputEnding = true;

    private void OnSettings(in Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        ExpectConnection(header);
        if (header.Has(Http2Flags.Ack))
        {
            if (header.Length != 0)
            {
                throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "a SETTINGS acknowledgement with a payload");
            }

            return;
        }

        if (header.Length % 6 != 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"a SETTINGS frame of {header.Length} bytes, not a multiple of 6");
        }

        Span<byte> setting = stackalloc byte[6];
        while (!payload.IsEmpty)
        {
            payload.Slice(0, 6).CopyTo(setting);
            payload = payload.Slice(6);
            var value = BinaryPrimitives.ReadUInt32BigEndian(setting[2..]);
            switch ((Http2Setting)BinaryPrimitives.ReadUInt16BigEndian(setting))
            {
                case Http2Setting.InitialWindowSize:
                    if (value > Http2FrameHeader.MaxWindow)
                    {
                        throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, $"an initial window of {value}, above 2^31-1");
                    }

                    // Applies to the open stream as the difference from the previous initial window (RFC 9113 6.9.2).
                    var window = Interlocked.Add(ref _streamSendWindow, value - (long)_peerInitialWindow);
                    _peerInitialWindow = (int)value;
                    if (window > Http2FrameHeader.MaxWindow)
                    {
                        throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, $"an initial window of {value} that takes the stream's window to {window}, above 2^31-1");
                    }

                    break;
                case Http2Setting.MaxFrameSize:
                    _peerMaxFrameSize = value is >= Http2FrameHeader.MinMaxFrameSize and <= Http2FrameHeader.MaxMaxFrameSize ? (int)value
                        : throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"a maximum frame size of {value}, outside 2^14 to 2^24-1");
                    break;
            }
        }

        Acknowledge(Http2ControlFrame.SettingsAck());
    }

    // The acknowledgements the listener's PING and SETTINGS frames call for wait behind what the socket takes: a listener
    // that sends them without reading its own socket would make them pile up without end (the flood of CVE-2019-9512).
    private void Acknowledge(byte[] frame)
    {
        if (_control.Count >= MaxUnsentAcknowledgements)
            throw new Http2ConnectionException(Http2ErrorCode.EnhanceYourCalm, $"{MaxUnsentAcknowledgements} PING and SETTINGS acknowledgements wait unsent: the listener sends them faster than it reads");
        _control.Enqueue(frame);
        Wake();
    }

    private void OnPing(in Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        ExpectConnection(header);
        if (header.Length != 8)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"a PING of {header.Length} bytes, not 8");
        }

        if (!header.Has(Http2Flags.Ack))
        {
            Span<byte> opaque = stackalloc byte[8];
            payload.CopyTo(opaque);
            Acknowledge(Http2ControlFrame.Ping(BinaryPrimitives.ReadInt64BigEndian(opaque), ack: true));
        }
    }

    private void OnWindowUpdate(in Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.Length != 4)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"a WINDOW_UPDATE of {header.Length} bytes, not 4");
        }

        if (header.StreamId is not (0 or StreamId))
        {
            return; // a stream this side never opened: nothing to credit
        }

        var increment = ReadInt31(payload);
        if (increment == 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "a WINDOW_UPDATE of 0");
        }

        var window = Interlocked.Add(ref header.StreamId == 0 ? ref _connectionSendWindow : ref _streamSendWindow, increment);
        if (window > Http2FrameHeader.MaxWindow)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, $"a window of {window}, above 2^31-1");
        }

        Wake();
    }

    private void OnRstStream(in Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.Length != 4)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"a RST_STREAM of {header.Length} bytes, not 4");
        }

        ExpectStream(header);
        var code = (Http2ErrorCode)ReadUInt32(payload);
        if (_inputEnded && _outputEnded)
        {
            return;
        }

        if (_inputEnding && code == Http2ErrorCode.NoError)
        {
            // The response is complete and NO_ERROR only asks this side to stop sending (RFC 9113 8.1): what was
            // read ends in order first.
            _resetAfterInput = $"the listener reset the stream ({code})";
            return;
        }

        Fail($"the listener reset the stream ({code})");
    }

    private void OnGoAway(in Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        ExpectConnection(header);
        if (header.Length < 8)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"a GOAWAY of {header.Length} bytes, under 8");
        }

        var lastStreamId = ReadInt31(payload);
        var code = (Http2ErrorCode)ReadUInt32(payload.Slice(4));
        if (lastStreamId < StreamId || code != Http2ErrorCode.NoError)
        {
            var debug = System.Text.Encoding.UTF8.GetString(payload.Slice(8, Math.Min(payload.Length - 8, 200)).ToArray());
            Fail($"the listener ended the connection (GOAWAY {code}{(debug.Length == 0 ? "" : ": " + debug)})");
        }

        // Otherwise the listener is stopping and lets the open stream finish: it does.
    }

    private static void ExpectStream(in Http2FrameHeader header)
    {
        if (header.StreamId != StreamId)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"a {header.Type} frame on stream {header.StreamId}, which this side never opened");
        }
    }

    private static void ExpectConnection(in Http2FrameHeader header)
    {
        if (header.StreamId != 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"a {header.Type} frame on stream {header.StreamId} instead of the connection");
        }
    }

    // A PADDED frame's payload without its pad-length byte and padding (RFC 9113 6.1).
    private static ReadOnlySequence<byte> Unpad(in Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (!header.Has(Http2Flags.Padded))
        {
            return payload;
        }

        var padding = payload.IsEmpty ? -1 : payload.FirstSpan[0];
        return padding >= 0 && padding < payload.Length
            ? payload.Slice(1, payload.Length - 1 - padding)
            : throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"a {header.Type} frame whose padding is longer than it");
    }

    // The first line of what the listener sent when it is printable text, else its first bytes in hex.
    private static string Quote(ReadOnlySequence<byte> buffer)
    {
        var start = buffer.Slice(0, Math.Min(buffer.Length, 80)).ToArray().AsSpan();
        var line = start[..(start.IndexOfAny((byte)'\r', (byte)'\n') is var end and >= 0 ? end : start.Length)];
        return !line.IsEmpty && !line.ContainsAnyExceptInRange((byte)' ', (byte)'~')
            ? $"\"{System.Text.Encoding.ASCII.GetString(line)}\""
            : Convert.ToHexString(start[..Http2FrameHeader.Size]);
    }

    private static int ReadInt31(ReadOnlySequence<byte> payload) => (int)(ReadUInt32(payload) & 0x7fff_ffff);

    private static uint ReadUInt32(ReadOnlySequence<byte> payload)
    {
        Span<byte> bytes = stackalloc byte[4];
        payload.Slice(0, 4).CopyTo(bytes);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }
}

/// <summary>The listener broke the protocol: the connection ends (RFC 9113 5.4.1).</summary>
internal sealed class Http2ConnectionException(Http2ErrorCode code, string message) : Exception(message)
{
    public Http2ErrorCode Code { get; } = code;
}
