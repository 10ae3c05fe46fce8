using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace MeshActors.Transport;

/// <summary>A channel's output: the transport's writer, with its failures turned into <see cref="ChannelClosedException"/> and its bytes counted.</summary>
internal sealed class ChannelPipeWriter(PipeWriter inner, MeshChannel channel) : PipeWriter
{
    private long _unflushed;

    public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => inner.UnflushedBytes;

    // Kestrel frees the response body of a reset stream once the handler returns; what a writer still does with it is
    // the channel's loss too, not the writer's bug.
    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        try
        {
            return inner.GetMemory(sizeHint);
        }
        catch (Exception ex) when (channel.IsTransportFailure(ex, CancellationToken.None))
        {
            throw channel.OnWriteFailed(ex);
        }
    }

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public override void Advance(int bytes)
    {
        try
        {
            inner.Advance(bytes);
        }
        catch (Exception ex) when (channel.IsTransportFailure(ex, CancellationToken.None))
        {
            throw channel.OnWriteFailed(ex);
        }

        _unflushed += bytes;
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        // Nothing gets through a reset stream: fail at once rather than hand the bytes to it.
        if (channel.IsReset)
        {
            throw channel.OnWriteFailed(null);
        }

        CountSent();
        ValueTask<FlushResult> flush;
        try
        {
            flush = inner.FlushAsync(cancellationToken);
        }
        catch (Exception ex) when (channel.IsTransportFailure(ex, cancellationToken))
        {
            throw channel.OnWriteFailed(ex);
        }

        return flush.IsCompletedSuccessfully ? new(Check(flush.Result)) : AwaitFlush(flush, cancellationToken);
    }

    public override void CancelPendingFlush() => inner.CancelPendingFlush();

    public override void Complete(Exception? exception = null)
    {
        CountSent();
        try
        {
            inner.Complete(exception);
        }
        catch (Exception ex) when (channel.IsTransportFailure(ex, CancellationToken.None))
        {
            throw channel.OnWriteFailed(ex);
        }

        channel.OnOutputEnded(exception);
    }

    public override async ValueTask CompleteAsync(Exception? exception = null)
    {
        CountSent();
        try
        {
            await inner.CompleteAsync(exception).ConfigureAwait(false);
        }
        catch (Exception ex) when (channel.IsTransportFailure(ex, CancellationToken.None))
        {
            throw channel.OnWriteFailed(ex);
        }

        channel.OnOutputEnded(exception);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<FlushResult> AwaitFlush(ValueTask<FlushResult> flush, CancellationToken cancellationToken)
    {
        try
        {
            return Check(await flush.ConfigureAwait(false));
        }
        catch (Exception ex) when (channel.IsTransportFailure(ex, cancellationToken))
        {
            throw channel.OnWriteFailed(ex);
        }
    }

    // Kestrel completes flushes to a reset stream quietly; the channel's writer must hear about it.
    private FlushResult Check(FlushResult result) =>
        result.IsCompleted && channel.IsReset ? throw channel.OnWriteFailed(null) : result;

    private void CountSent()
    {
        if (_unflushed != 0)
        {
            channel.Stats.OnSent(_unflushed);
            _unflushed = 0;
        }
    }
}
