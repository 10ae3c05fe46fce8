using MeshActors.Protocol;
using MeshActors.Transport;

namespace MeshActors.Peers;

/// <summary>The write side: control frames first, then the peer's queue while this channel drains it, many frames per block, one flush per batch.</summary>
internal sealed partial class PeerChannel
{
    private bool _lastFrameWritten; // or there was none: the writer has seen the channel closing

    private async Task WriteLoopAsync()
    {
        var writer = _writer!;
        var threshold = _settings.Options.FlushThresholdBytes;
        long frames = 0;
        var waitedOneTurn = false;
        try
        {
            while (true)
            {
                frames += WriteControlFrames(writer);
                if (!_lastFrameWritten && _link is { } link && link.Queue.IsDrainedBy(this))
                {
                    frames += WriteQueued(writer, link.Queue, threshold);
                }

                // Flushed at the byte threshold, or when nothing more came after one more turn of the pool: producers queued
                // behind this writer (a burst of answers, each completing a call that sends the next) add to this batch
                // instead of each costing a flush and a socket send (docs/architecture.md, Batching).
                if (writer.UnflushedBytes > 0 && !waitedOneTurn && writer.UnflushedBytes < threshold)
                {
                    waitedOneTurn = true;
                    await Task.Yield();
                    continue;
                }

                waitedOneTurn = false;
                if (writer.UnflushedBytes > 0)
                {
                    var bytes = writer.UnflushedBytes;
                    var flushed = await writer.FlushAsync().ConfigureAwait(false);
                    Volatile.Write(ref _lastSent, Environment.TickCount64);
                    (_link?.Stats ?? _settings.Totals).OnSent(frames, bytes);
                    frames = 0;
                    if (flushed.IsCompleted)
                    {
                        Close(new ChannelEnd("the peer stopped reading the channel"), lastFrame: null);
                        break;
                    }

                    continue;
                }

                if (_unary is { IsAnswered: true } caller && !caller.Link.Queue.HasItems)
                {
                    if (caller.IsCutShort)
                        Close(new ChannelEnd("the node is stopping"), new Envelope.Err(ErrorCodes.Unavailable, "The node is stopping: the call ends."));
                    else
                        Close(new ChannelEnd("the unary call is answered"), lastFrame: null);
                }

                if (_lastFrameWritten)
                {
                    break;
                }

                var sleep = Signal.Arm();
                if (HasWork())
                {
                    Signal.Disarm();
                    continue;
                }

                await sleep.ConfigureAwait(false);
            }

            await _channel!.Output.CompleteAsync().ConfigureAwait(false);
        }
        catch (ChannelClosedException e)
        {
            Close(new ChannelEnd("the channel was lost", e), lastFrame: null);
        }
        catch (Exception e)
        {
            PeerLog.ChannelBug(_settings.Logger, Description, e);
            Abort($"the write loop failed: {e.Message}");
        }
    }

    private bool HasControlFrames => !_control.IsEmpty || Volatile.Read(ref _pong) is not null || Volatile.Read(ref _ping) is not null;

    private bool HasWork() =>
        HasControlFrames || Has(States.Closing) || _unary is { IsAnswered: true }
        || (_link is { } link && link.Queue.IsDrainedBy(this) && link.Queue.HasItems);

    // Once the writer sees the channel closing, the close's last frame (if any) goes out, and nothing after it.
    private long WriteControlFrames(FrameWriter writer)
    {
        var frames = WriteControlFrame(writer, Interlocked.Exchange(ref _pong, null))
            + WriteControlFrame(writer, Interlocked.Exchange(ref _ping, null));
        while (_control.TryDequeue(out var envelope))
        {
            frames += WriteControlFrame(writer, envelope);
        }

        if (Has(States.Closing))
        {
            frames += WriteControlFrame(writer, _lastFrame);
            _lastFrameWritten = true;
        }

        return frames;
    }

    private long WriteControlFrame(FrameWriter writer, Envelope? envelope)
    {
        if (envelope is null || _lastFrameWritten)
        {
            return 0;
        }

        writer.Write(envelope);
        return FramesOf(envelope);
    }

    // An attachment is a frame of its own (docs/protocol.md 6), and the reader counts it as one.
    private static int FramesOf(Envelope envelope) => EnvelopeEncoder.AttachmentOf(envelope).IsEmpty ? 1 : 2;

    // Ownership is checked before each envelope: a channel that closes, or whose queue went to another channel, takes
    // nothing more, and what it took is still read to its end by the peer (after a goodbye) or lost with the channel.
    private long WriteQueued(FrameWriter writer, OutboundQueue queue, int threshold)
    {
        long frames = 0, taken = 0;
        var envelopes = 0;
        try
        {
            while (writer.UnflushedBytes < threshold && !Has(States.Closing) && queue.IsDrainedBy(this) && queue.TryDequeue(out var envelope))
            {
                envelopes++;
                taken += OutboundQueue.SizeOf(envelope);
                if (!queue.IsWanted(envelope))
                {
                    continue; // a request whose caller was answered already (a failure): nobody waits for what it would do
                }

                frames += TryWrite(writer, envelope);
            }
        }
        finally
        {
            // Also when the channel fails mid-batch: the room of what was taken comes back, or the queue's counts would
            // stay inflated for good, across reconnects, and senders wait for room nobody gives back.
            queue.Release(envelopes, taken);
        }

        return frames;
    }

    // An envelope this peer cannot take is dropped and counted; the channel goes on. Anything else that fails here is
    // the channel, not the envelope: it is left to the loop, or one lost channel would drop the whole queue. Returns
    // the frames written.
    private int TryWrite(FrameWriter writer, Envelope envelope)
    {
        try
        {
            if (_plain && envelope is not Envelope.Raw)
            {
                throw new NotSupportedException("a plain (Marketrix) peer takes raw messages only");
            }

            writer.Write(envelope);
            return FramesOf(envelope);
        }
        catch (Exception e) when (e is MeshProtocolException or NotSupportedException or ArgumentException)
        {
            _link!.Stats.OnDropped();
            PeerLog.Unsendable(_settings.Logger, envelope.Type, _link.NodeId, e.Message);
            return e is FrameTooLargeException tooLarge ? AnswerInstead(writer, envelope, tooLarge) : 0;
        }
    }

    // A request or an answer too large for the peer is waited for: its requester hears why at once (docs/protocol.md
    // 3.1), not at its timeout. An answer becomes an error the requester takes; a request, the same error for this
    // node's own caller.
    private int AnswerInstead(FrameWriter writer, Envelope envelope, FrameTooLargeException tooLarge)
    {
        switch (envelope)
        {
            case Envelope.Res res:
                writer.Write(new Envelope.Err(ErrorCodes.FrameTooLarge, $"The response was not sent: {tooLarge.Message}") { Id = res.Id });
                return 1;
            case Envelope.Err { Id: not null } err:
                // An error with a message too long for the peer (a handler's exception text): the same error, cut short.
                writer.Write(err with { Message = err.Message[..Math.Min(err.Message.Length, 1024)] + " (cut: the whole message is above the peer's max_frame)", ExceptionType = err.ExceptionType is { Length: > 256 } type ? type[..256] : err.ExceptionType });
                return 1;
            case Envelope.Req req:
                _ = _settings.Handler.OnEnvelope(Peer, new Envelope.Err(ErrorCodes.FrameTooLarge, $"The request was not sent: {tooLarge.Message}") { Id = req.Id });
                return 0;
            default:
                return 0;
        }
    }
}
