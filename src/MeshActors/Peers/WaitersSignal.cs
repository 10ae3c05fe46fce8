namespace MeshActors.Peers;

/// <summary>Lets any number of waiters wait for one thing to happen, and wakes them all at once when it does.</summary>
/// <remarks>
/// A waiter takes <see cref="WaitTask"/>, looks at its condition once more, and only then awaits: whatever happens after
/// the look also happens after the task was taken, and its <see cref="Release"/> completes it. The task exists only
/// while somebody waits, so the side that releases pays one read while nobody does.
/// </remarks>
internal sealed class WaitersSignal
{
    private TaskCompletionSource? _waiters;

    /// <summary>Called by the waiter before its last look at the condition; the task to await if it is still unmet.</summary>
    public Task WaitTask
    {
        get
        {
            while (true)
            {
                if (Volatile.Read(ref _waiters) is { } waiters)
                {
                    return waiters.Task;
                }

                // Continuations run on the pool, never inline on the releasing thread (a channel's writer or reader).
                var fresh = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (Interlocked.CompareExchange(ref _waiters, fresh, null) is null)
                {
                    return fresh.Task;
                }
            }
        }
    }

    /// <summary>True while somebody waits.</summary>
    public bool HasWaiters => Volatile.Read(ref _waiters) is not null;

    /// <summary>Wakes everyone waiting now; later waiters get a new task.</summary>
    public void Release() => Interlocked.Exchange(ref _waiters, null)?.TrySetResult();
}
