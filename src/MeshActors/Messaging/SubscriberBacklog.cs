using MeshActors.Peers;

namespace MeshActors.Messaging;

/// <summary>
/// How many messages wait in one callback subscription's mailbox, and the signal its feeders wait on when it is too
/// many: a subscriber slower than the channels that feed it would otherwise hold an ever-growing backlog.
/// </summary>
/// <remarks>
/// Feeders (channel read loops, local publishers) call <see cref="Add"/> once per message, the subscription's actor
/// <see cref="Remove"/> once per message it takes. Above <c>limit</c> messages or <c>limitBytes</c> bytes,
/// <see cref="Add"/> returns a task that completes once the backlog is down to half of both, so that feeders resume in
/// bulk rather than one message at a time. The counts are approximate while both sides run, which only moves the
/// thresholds by a message or two.
/// </remarks>
internal sealed class SubscriberBacklog(int limit, long limitBytes, MessagingStats stats)
{
    private readonly WaitersSignal _drained = new();
    private int _pending;
    private long _pendingBytes;
    private volatile bool _closed;

    /// <summary>Messages waiting now.</summary>
    public int Pending => Volatile.Read(ref _pending);

    /// <summary>
    /// What waits now, counted as a peer's queue counts it (64 bytes an envelope and its data); at or above a limit, as
    /// full as a queue can be: a feeder would wait for it.
    /// </summary>
    public long Load => Pending >= limit || Volatile.Read(ref _pendingBytes) >= limitBytes
        ? Full
        : Math.Min(Full, Volatile.Read(ref _pendingBytes) + 64L * Pending);

    /// <summary>The <see cref="Load"/> of a backlog at its limit, and the most a sum of them reports.</summary>
    public const long Full = long.MaxValue / 4;

    /// <summary>Counts a message of <paramref name="bytes"/> on its way; completed unless the backlog is above a limit, else completes when it has drained.</summary>
    public ValueTask Add(long bytes)
    {
        var size = Interlocked.Add(ref _pendingBytes, bytes);
        if ((Interlocked.Increment(ref _pending) <= limit && size <= limitBytes) || _closed)
            return default;

        if (!_drained.HasWaiters)
            stats.OnSubscriberBehind(); // the first to find it behind: a new episode
        var drained = _drained.WaitTask;
        // A second look after registering: a subscriber that drained in between completes the signal here, not never.
        if (IsDrained || _closed)
            _drained.Release();
        return new ValueTask(drained);
    }

    /// <summary>The subscriber took a message of <paramref name="bytes"/>.</summary>
    public void Remove(long bytes)
    {
        Interlocked.Add(ref _pendingBytes, -bytes);
        Interlocked.Decrement(ref _pending);
        if (_drained.HasWaiters && IsDrained)
            _drained.Release();
    }

    private bool IsDrained => Pending <= limit / 2 && Volatile.Read(ref _pendingBytes) <= limitBytes / 2;

    /// <summary>The subscription ended: nobody waits for it any more, now or later.</summary>
    public void Close()
    {
        _closed = true;
        _drained.Release();
    }
}
