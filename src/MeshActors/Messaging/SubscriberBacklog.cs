namespace MeshActors.Messaging;

/// <summary>
/// How many messages wait in one callback subscription's mailbox, and the signal its feeders wait on when it is too
/// many: a subscriber slower than the channels that feed it would otherwise hold an ever-growing backlog.
/// </summary>
/// <remarks>
/// Feeders (channel read loops, local publishers) call <see cref="Add"/> once per message, the subscription's actor
/// <see cref="Remove"/> once per message it takes. Above <c>limit</c> messages, <see cref="Add"/> returns a task that
/// completes once the backlog is down to half the limit, so that feeders resume in bulk rather than one message at a
/// time. The counts are approximate while both sides run, which only moves the thresholds by a message or two.
/// </remarks>
internal sealed class SubscriberBacklog(int limit, MessagingStats stats)
{
    private int _pending;
    private TaskCompletionSource? _drained;
    private volatile bool _closed;

    /// <summary>Messages waiting now.</summary>
    public int Pending => Volatile.Read(ref _pending);

    /// <summary>Counts a message on its way; completed unless the backlog is above its limit, else completes when it has drained.</summary>
    public ValueTask Add()
    {
        if (Interlocked.Increment(ref _pending) <= limit || _closed)
            return default;

        var drained = DrainedSignal();
        // A second look after registering: a subscriber that drained in between completes the signal here, not never.
        if (Pending <= limit / 2 || _closed)
            Release();
        return new ValueTask(drained.Task);
    }

    /// <summary>The subscriber took a message.</summary>
    public void Remove()
    {
        if (Interlocked.Decrement(ref _pending) <= limit / 2 && Volatile.Read(ref _drained) is not null)
            Release();
    }

    /// <summary>The subscription ended: nobody waits for it any more, now or later.</summary>
    public void Close()
    {
        _closed = true;
        Release();
    }

    private void Release() => Interlocked.Exchange(ref _drained, null)?.TrySetResult();

    private TaskCompletionSource DrainedSignal()
    {
        while (true)
        {
            if (Volatile.Read(ref _drained) is { } drained)
                return drained;
            var fresh = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (Interlocked.CompareExchange(ref _drained, fresh, null) is null)
            {
                stats.OnSubscriberBehind();
                return fresh;
            }
        }
    }
}
