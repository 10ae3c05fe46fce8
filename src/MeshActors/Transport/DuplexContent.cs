using System.Net;

namespace MeshActors.Transport;

/// <summary>
/// A request body that stays open while the response streams back: it hands the request stream to the channel and
/// ends when the channel's output completes. <see cref="StreamContent"/> cannot do this: it is not duplex.
/// </summary>
internal sealed class DuplexContent : HttpContent
{
    private readonly TaskCompletionSource<Stream> _stream = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _reset = new();

    /// <summary>The request stream, once the handler starts sending the body.</summary>
    public Task<Stream> RequestStream => _stream.Task;

    /// <summary>Fires when the handler stops the body early: the remote reset the stream, or the connection is gone.</summary>
    public CancellationToken Reset => _reset.Token;

    /// <summary>Completes when the handler no longer uses the request stream.</summary>
    public Task Finished => _finished.Task;

    /// <summary>Ends the body: END_STREAM when <paramref name="error"/> is null, a stream reset otherwise.</summary>
    public void Complete(Exception? error = null)
    {
        if (error is null)
        {
            _completed.TrySetResult();
        }
        else
        {
            _completed.TrySetException(error);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        try
        {
            // Trap 2: until the first flush the request HEADERS may sit in the connection's buffer, and later
            // streams on the same connection hang behind them.
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            _stream.TrySetResult(stream);
            await _completed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Cancelled by the handler (stream reset, connection lost) or failed by Complete(error).
            _reset.Cancel();
            throw;
        }
        finally
        {
            _stream.TrySetCanceled();
            _finished.TrySetResult();
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
