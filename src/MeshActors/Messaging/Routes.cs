using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace MeshActors.Messaging;

/// <summary>Holds the current <see cref="RoutingTable"/> (copy on write) and lets callers wait for the next one.</summary>
internal sealed class Routes
{
    private RoutingTable _current = RoutingTable.Empty;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _closed;

    public RoutingTable Current => Volatile.Read(ref _current);

    /// <summary>Completes at the next <see cref="Publish"/>: take it before reading <see cref="Current"/>, and no change is missed.</summary>
    public Task NextChange => Volatile.Read(ref _changed).Task;

    /// <summary>Replaces the table; only the topic router calls this.</summary>
    public void Publish(RoutingTable table)
    {
        // Table first, then the signal: a waiter that takes the signal and then reads the table cannot miss a change.
        Volatile.Write(ref _current, table);
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>No table will follow (the node stopped): every wait, and every later one, throws <see cref="InvalidOperationException"/> with <paramref name="reason"/>.</summary>
    public void Close(string reason)
    {
        // The waits of now wake and find the routes closed; later ones get a signal no change will ever complete.
        Volatile.Write(ref _closed, reason);
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    // On to the pool, whatever context the thread has (Task.Yield would post to a canceller's UI context).
    private static ConfiguredTaskAwaitable OffThisThread() => Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);

    /// <summary>True once <paramref name="condition"/> holds for the current table; false when <paramref name="timeout"/> (<see cref="Timeout.InfiniteTimeSpan"/>: none) passes first.</summary>
    /// <exception cref="InvalidOperationException">The routes were closed: the node stopped.</exception>
    public async Task<bool> WaitAsync(Func<RoutingTable, bool> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var changed = Volatile.Read(ref _changed).Task;
            if (condition(Current))
                return true;
            if (Volatile.Read(ref _closed) is { } reason)
                throw new InvalidOperationException(reason);
            var remaining = timeout == Timeout.InfiniteTimeSpan ? timeout : timeout - Stopwatch.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero && remaining != Timeout.InfiniteTimeSpan)
                return false;
            // A timeout or a cancellation ends the wait on the timer's or the canceller's thread: the waiter goes on from
            // the pool, or its caller's code would run there, inside the canceller's Cancel().
            try
            {
                await changed.WaitAsync(remaining, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                await OffThisThread();
                return condition(Current);
            }
            catch (OperationCanceledException)
            {
                await OffThisThread();
                throw;
            }
        }
    }
}
