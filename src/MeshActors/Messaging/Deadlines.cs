using System.Collections.Concurrent;

namespace MeshActors.Messaging;

/// <summary>
/// The deadlines of this node's calls (requests, pings): one <see cref="CancellationTokenSource"/> for a whole call,
/// linked to the caller's token, that cancels after the call's timeout; it ends the wait for an answer and also a send
/// that waits for room in a backed-up peer's queue, so that no call outlives its timeout. Reused by later calls when
/// it did not fire.
/// </summary>
/// <remarks>
/// A new source per call cost about 300 bytes (the source, its timer, its registration list and node), and
/// requests are the hot path. <see cref="CancellationTokenSource.TryReset"/> hands a source back only when it was
/// not cancelled and its timer never fired, and drops its registrations; whoever registered on the token has
/// unregistered by then, since a call returns only after its send and its wait are over. A source linked to the
/// caller's token is never reused: it stays registered on the caller's token until it is disposed.
/// </remarks>
internal sealed class Deadlines
{
    /// <summary>Idle sources kept at most: more than the requests in flight at a time have no use.</summary>
    private const int MaxIdle = 1024;

    private readonly ConcurrentQueue<CancellationTokenSource> _idle = new();
    private int _idleCount;

    /// <summary>A source that cancels after <paramref name="timeout"/>, or when <paramref name="cancellationToken"/> does; give it back with <see cref="End"/>.</summary>
    public CancellationTokenSource Start(TimeSpan timeout, CancellationToken cancellationToken)
    {
        CancellationTokenSource deadline;
        if (cancellationToken.CanBeCanceled)
            deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        else if (_idle.TryDequeue(out var idle))
        {
            Interlocked.Decrement(ref _idleCount);
            deadline = idle;
        }
        else
            deadline = new CancellationTokenSource();

        deadline.CancelAfter(timeout);
        return deadline;
    }

    /// <summary>The call is over: <paramref name="deadline"/> is kept for another call when it can be, else disposed.</summary>
    public void End(CancellationTokenSource deadline, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled && deadline.TryReset())
        {
            if (Interlocked.Increment(ref _idleCount) <= MaxIdle)
            {
                _idle.Enqueue(deadline);
                return;
            }

            Interlocked.Decrement(ref _idleCount);
        }

        deadline.Dispose();
    }
}
