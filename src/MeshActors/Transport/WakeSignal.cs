namespace MeshActors.Transport;

/// <summary>Wakes one waiting consumer (a channel's or a connection's writer) when producers have work for it, without a lock or an allocation per wake-up.</summary>
/// <remarks>
/// The consumer arms the signal, checks for work once more, and only then awaits; a producer adds its work first and
/// then wakes. The flag is set and cleared with full fences (as the kernel's mailbox does), so that a producer and a
/// consumer that is just going to sleep cannot both miss each other. Spurious wake-ups are possible and harmless.
/// </remarks>
internal sealed class WakeSignal
{
    private TaskCompletionSource _sleeper = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _waiting;

    /// <summary>Producer side: wakes the consumer if it sleeps. Cheap (one read) while it does not.</summary>
    public void Wake()
    {
        if (Volatile.Read(ref _waiting) != 0 && Interlocked.Exchange(ref _waiting, 0) != 0)
        {
            Volatile.Read(ref _sleeper).TrySetResult();
        }
    }

    /// <summary>Consumer side: arms the signal; check for work again, then <see cref="Disarm"/> or await the returned task.</summary>
    public Task Arm()
    {
        // Continuations run on the pool, never inline on the producer's thread (a sender or another channel's reader).
        var sleeper = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _sleeper, sleeper);
        Interlocked.Exchange(ref _waiting, 1);
        return sleeper.Task;
    }

    /// <summary>Consumer side: work turned up after <see cref="Arm"/>; the consumer does not sleep.</summary>
    public void Disarm() => Interlocked.Exchange(ref _waiting, 0);
}
