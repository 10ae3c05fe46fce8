using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace MeshActors.Transport;

/// <summary>A channel's input: the transport's reader, with its failures turned into <see cref="ChannelClosedException"/> and its bytes counted.</summary>
internal sealed class ChannelPipeReader(PipeReader inner, MeshChannel channel) : PipeReader
{
    private ReadOnlySequence<byte> _buffer;
    private long _unconsumed;
    private long _bufferOffset; // bytes of the input before _buffer's start
    private long _examined; // bytes of the input examined so far, each reported once

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        ValueTask<ReadResult> read;
        try
        {
            read = inner.ReadAsync(cancellationToken);
        }
        catch (Exception ex) when (channel.IsTransportFailure(ex, cancellationToken))
        {
            throw channel.OnReadFailed(ex);
        }

        return read.IsCompletedSuccessfully ? new(Observe(read.Result)) : AwaitRead(read, cancellationToken);
    }

    public override bool TryRead(out ReadResult result)
    {
        try
        {
            if (!inner.TryRead(out result))
            {
                return false;
            }
        }
        catch (Exception ex) when (channel.IsTransportFailure(ex, CancellationToken.None))
        {
            throw channel.OnReadFailed(ex);
        }

        Observe(result);
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        var unconsumed = _buffer.Slice(consumed).Length;
        // Examined, not only consumed, is what the sender gets room for again: a frame larger than the receive window
        // is examined whole and consumed only once it is whole, so counting consumed bytes alone, it never would be.
        // What stays buffered is still bounded: one incomplete frame plus the window.
        var examinedTo = Math.Max(_bufferOffset + _buffer.Slice(_buffer.Start, examined).Length, _bufferOffset + _buffer.Length - unconsumed);
        if (examinedTo > _examined)
        {
            channel.OnInputExamined(examinedTo - _examined);
            _examined = examinedTo;
        }

        _bufferOffset += _buffer.Length - unconsumed;
        _unconsumed = unconsumed;
        try
        {
            inner.AdvanceTo(consumed, examined);
        }
        catch (Exception ex) when (channel.IsTransportFailure(ex, CancellationToken.None))
        {
            // Kestrel frees the request body of a reset stream once the handler returns.
            throw channel.OnReadFailed(ex);
        }
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null)
    {
        try
        {
            inner.Complete(exception);
        }
        catch (Exception ex) when (channel.IsTransportFailure(ex, CancellationToken.None))
        {
            // The stream is gone (and its loss logged): Kestrel rethrows the reset, or has disposed the body once the handler returned.
        }

        channel.OnInputEnded();
    }

    public override async ValueTask CompleteAsync(Exception? exception = null)
    {
        try
        {
            await inner.CompleteAsync(exception).ConfigureAwait(false);
        }
        catch (Exception ex) when (channel.IsTransportFailure(ex, CancellationToken.None))
        {
            // As in Complete: the input is already gone with the stream.
        }

        channel.OnInputEnded();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult> AwaitRead(ValueTask<ReadResult> read, CancellationToken cancellationToken)
    {
        try
        {
            return Observe(await read.ConfigureAwait(false));
        }
        catch (Exception ex) when (channel.IsTransportFailure(ex, cancellationToken))
        {
            throw channel.OnReadFailed(ex);
        }
    }

    private ReadResult Observe(ReadResult result)
    {
        // Each read returns what the last one left unconsumed plus what arrived since.
        var buffer = result.Buffer;
        if (buffer.Length != _unconsumed)
        {
            channel.Stats.OnReceived(buffer.Length - _unconsumed);
        }

        _buffer = buffer;
        if (result.IsCompleted)
        {
            channel.OnInputEnded();
        }

        return result;
    }
}
