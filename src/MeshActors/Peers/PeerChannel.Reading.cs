using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using MeshActors.Protocol;
using MeshActors.Transport;

namespace MeshActors.Peers;

/// <summary>The read side: the hello, then every frame straight to the envelope handler (the hot path: no actor, no lock, no copy beyond the decoder's).</summary>
internal sealed partial class PeerChannel
{
    private async Task<Envelope.Hello> ReadHelloAsync(PipeReader input)
    {
        using var timeout = new CancellationTokenSource(_settings.Options.HandshakeTimeout);
        // A cancelled pending read leaves the pipe usable, so that the channel can still be closed in order.
        using var cancel = timeout.Token.UnsafeRegister(static state => ((PipeReader)state!).CancelPendingRead(), input);
        while (true)
        {
            var result = await input.ReadAsync().ConfigureAwait(false);
            if (result.IsCanceled)
            {
                input.AdvanceTo(result.Buffer.Start);
                throw new MeshProtocolException(ErrorCodes.HandshakeTimeout,
                    $"No hello from the peer within {_settings.Options.HandshakeTimeout.TotalMilliseconds:0} ms.");
            }

            var buffer = result.Buffer;
            Volatile.Write(ref _lastReceived, Environment.TickCount64);
            Envelope.Hello? hello = null;
            try
            {
                hello = TakeHello(ref buffer, result.IsCompleted);
            }
            finally
            {
                // Frames after the hello stay in the pipe, unexamined, so that the read loop's first read returns them at once.
                input.AdvanceTo(buffer.Start, hello is null ? buffer.End : buffer.Start);
            }

            if (hello is not null)
            {
                return hello;
            }
        }
    }

    /// <summary>Whether a frame that did not decode names itself a hello: its top-level <c>"t"</c> is <c>"hello"</c>.</summary>
    private static bool SaysHello(in ReadOnlySequence<byte> payload)
    {
        var reader = new Utf8JsonReader(payload, WireProtocol.FrameReading);
        try
        {
            return TopLevelMember.TryFind(ref reader, "t"u8) && reader.TokenType == JsonTokenType.String && TopLevelMember.TextIs(ref reader, "hello"u8);
        }
        catch (JsonException)
        {
            return false; // not even JSON
        }
    }

    // Takes the first non-empty frame off the buffer, which must be a hello; null when more data is needed.
    private Envelope.Hello? TakeHello(ref ReadOnlySequence<byte> buffer, bool completed)
    {
        while (FrameReader.TryReadFrame(ref buffer, _settings.Protocol.MaxFrameSize, out var payload))
        {
            if (payload.IsEmpty)
            {
                continue;
            }

            Envelope? envelope;
            try
            {
                envelope = _decoder.Decode(payload);
            }
            catch (MeshProtocolException e) when (!e.ClosesChannel && !SaysHello(payload))
            {
                // docs/protocol.md 7.1: anything but a hello first fails the channel, however malformed; only a
                // malformed hello is a bad_envelope (5.1).
                throw new MeshProtocolException(ErrorCodes.ProtocolError, $"The first frame must be a hello: {e.Message}", e);
            }

            return envelope switch
            {
                Envelope.Hello hello => hello,
                Envelope.Err err => throw new PeerClosedException($"the peer refused the channel: {err.Code}: {err.Message}"),
                _ => throw new MeshProtocolException(ErrorCodes.ProtocolError,
                    $"The first frame must be a hello, not {(envelope is null ? "an envelope with an attachment" : $"'{envelope.Type}'")}."),
            };
        }

        if (completed)
        {
            FrameReader.EnsureNothingLeft(buffer);
            throw new PeerClosedException("the peer ended the channel before its hello");
        }

        return null;
    }

    private async Task ReadLoopAsync()
    {
        var input = _channel!.Input;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync().ConfigureAwait(false);
                Volatile.Write(ref _lastReceived, Environment.TickCount64);
                var buffer = result.Buffer;
                if (!Has(States.Discarding))
                {
                    ReadFrames(ref buffer, result.IsCompleted);
                }

                input.AdvanceTo(Has(States.Discarding) ? result.Buffer.End : buffer.Start, result.Buffer.End);
                if (_consumerBehind is { } behind)
                {
                    await WaitForConsumerAsync(behind).ConfigureAwait(false);
                }

                if (result.IsCompleted)
                {
                    // The peer ended its side: this side ends too (a goodbye from the peer already said so); a unary
                    // call first answers what it was asked.
                    if (_unary is { } caller)
                    {
                        caller.OnBodyEnded();
                    }
                    else if (_afterGoodbye is null)
                    {
                        Close(new ChannelEnd("the peer ended the channel"), lastFrame: null);
                    }

                    break;
                }
            }
        }
        catch (ChannelClosedException e)
        {
            Close(new ChannelEnd("the channel was lost", e), lastFrame: null);
        }
        catch (Exception e)
        {
            PeerLog.ChannelBug(_settings.Logger, Description, e);
            Abort($"the read loop failed: {e.Message}");
        }
        finally
        {
            await input.CompleteAsync().ConfigureAwait(false);
        }
    }

    private void ReadFrames(ref ReadOnlySequence<byte> buffer, bool completed)
    {
        long frames = 0, bytes = 0;
        _settings.Handler.OnReadStarting();
        try
        {
            var maxFrameSize = _settings.Protocol.MaxFrameSize;
            while (true)
            {
                if (_decoder.AwaitsAttachment)
                {
                    // Taken as it arrives, however little of it is here.
                    var before = buffer.Length;
                    var complete = _decoder.TryReadAttachment(ref buffer, maxFrameSize, out var attached);
                    bytes += before - buffer.Length;
                    if (!complete)
                    {
                        break;
                    }

                    frames++;
                    Handle(attached);
                }
                else if (FrameReader.TryReadFrame(ref buffer, maxFrameSize, out var payload))
                {
                    frames++;
                    bytes += FrameReader.LengthSize + payload.Length;
                    Handle(payload);
                }
                else
                {
                    break;
                }

                if (Has(States.Discarding))
                {
                    return;
                }
            }

            if (completed)
            {
                FrameReader.EnsureNothingLeft(buffer);
                _decoder.Complete();
            }
        }
        catch (MeshProtocolException e)
        {
            // Framing or the handshake's rules are broken: nothing after this frame can be trusted.
            Reject(e);
            Fail(e);
        }
        finally
        {
            _settings.Handler.OnReadEnded();
            if (frames != 0)
            {
                (_link?.Stats ?? _settings.Totals).OnReceived(frames, bytes);
            }
        }
    }

    private void Handle(in ReadOnlySequence<byte> payload)
    {
        Envelope? envelope;
        try
        {
            envelope = _plain ? EnvelopeDecoder.DecodeRaw(payload) : _decoder.Decode(payload);
        }
        catch (MeshProtocolException e) when (!e.ClosesChannel && (_plain || !SaysHello(payload)))
        {
            // A hello that does not decode closes a v1 channel, or ends the call (docs/protocol.md 9.1); on a plain
            // channel every frame is a raw message, whatever it says it is.
            Refuse(e);
            return;
        }

        Handle(envelope);
    }

    // Framing is intact: complain (a plain peer could not read an err), count, and go on with the next frame; unless
    // the peer has not read the errs it was sent, which would then pile up: that closes the channel.
    private void Refuse(MeshProtocolException e)
    {
        if (!_plain && _control.Count >= MaxQueuedErrs)
        {
            e = new MeshProtocolException(ErrorCodes.ProtocolError,
                $"The peer does not read what it is sent: {MaxQueuedErrs} errs wait, and it sent another bad frame ({e.Code}: {e.Message})", e);
            Reject(e);
            Fail(e);
            return;
        }

        Reject(e);
        if (!_plain)
        {
            var err = Envelope.Err.From(e);
            // A malformed req reusing the id of one a unary call awaits: its complaint must not pass for that answer.
            SendControl(err.Id is { } id && _unary?.IsAwaited(id) == true ? err with { Id = null } : err);
        }
    }

    // A decoded envelope, or null for a frame that delivers nothing (yet).
    private void Handle(Envelope? envelope)
    {
        if (_unary is { } caller)
        {
            try
            {
                envelope = caller.Admit(envelope, _writer!);
            }
            catch (MeshProtocolException e) when (!e.ClosesChannel)
            {
                Refuse(e);
                return;
            }
        }

        switch (envelope)
        {
            case Envelope.Pub:
                Deliver(envelope);
                break;
            case null or Envelope.Pong:
                break;
            case Envelope.Ping ping:
                SendControl(new Envelope.Pong(ping.Value));
                break;
            case Envelope.Bye bye:
                var end = new ChannelEnd($"the peer said goodbye ({bye.Reason})", PeerKeptAnother: bye.Reason == Envelope.Bye.Duplicate);
                // The peer leaves only when it says so on the channel that carries it: a duplicate channel just ends.
                if (bye.Reason != Envelope.Bye.Duplicate && _unary is null && _link is { } link && link.Queue.IsDrainedBy(this))
                    _afterGoodbye ??= CloseAfterGoodbyeAsync(link, end);
                else
                    Close(end, lastFrame: null);
                break;
            case Envelope.Hello:
                throw new MeshProtocolException(ErrorCodes.ProtocolError, "A second hello on the same channel.");
            case Envelope.Err { Id: null } err:
                PeerLog.PeerReportedError(_settings.Logger, Description, err.Code, err.Message);
                break;
            default:
                Deliver(envelope);
                break;
        }
    }

    // Who the handler hears from: the link the channel carries, or the caller of a unary call.
    private IPeer Peer => (IPeer?)_unary ?? _link!;

    /// <summary>
    /// docs/protocol.md 7.4, the peer's side of a goodbye: answer what the leaving node asked, and have the answers
    /// written, before ending this side; within the goodbye grace, as the rest of a close is.
    /// </summary>
    private async Task CloseAfterGoodbyeAsync(PeerLink link, ChannelEnd end)
    {
        using var grace = new CancellationTokenSource(_settings.Options.GoodbyeGrace);
        try
        {
            var answered = _settings.Handler.OnPeerLeavingAsync(link, grace.Token);
            // This node's requests to the peer were failed as it began: those still waiting for room in the queue,
            // never sent, stop waiting now, and may go to another provider.
            link.Queue.Wake();
            await answered.ConfigureAwait(false);
            await link.Queue.WhenEmptyAsync(() => link.Queue.IsDrainedBy(this), grace.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The grace ran out: what is still unanswered is cut off with the channel.
        }
        catch (Exception e)
        {
            PeerLog.HandlerFailed(_settings.Logger, WireNames.ByeType, link.NodeId, e);
        }

        Close(end, lastFrame: null);
    }

    private void Deliver(Envelope envelope)
    {
        try
        {
            var ready = _settings.Handler.OnEnvelope(Peer, envelope);
            if (!ready.IsCompleted)
            {
                _consumerBehind ??= ready.AsTask();
            }
        }
        catch (Exception e)
        {
            PeerLog.HandlerFailed(_settings.Logger, envelope.Type, Peer.NodeId, e);
        }
    }

    // The rest of the read was delivered; nothing more is read until the consumer has caught up, or the channel is
    // aborted, by this node or by the transport (the peer reset it: the read that follows says so at once). The
    // liveness check skips the pause: the peer is not silent, this node is not listening.
    private async Task WaitForConsumerAsync(Task behind)
    {
        _consumerBehind = null;
        Set(States.Paused);
        var transportAborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            using (_channel!.Aborted.UnsafeRegister(static state => ((TaskCompletionSource)state!).TrySetResult(), transportAborted))
                await Task.WhenAny(behind, _aborted.Task, transportAborted.Task).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _lastReceived, Environment.TickCount64);
            Clear(States.Paused);
        }
    }
}
