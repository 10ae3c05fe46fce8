namespace MeshActors.Actors;

/// <summary>
/// Keyed timers that send messages to their actor (<c>Self</c>). Starting a timer with a key in use replaces it, and a
/// message of a cancelled or replaced timer is never delivered, even if already queued. All timers are cancelled
/// when the actor stops or restarts, including those started in <c>PreRestart</c> or <c>PostStop</c>. A delay or
/// interval longer than about 49.7 days (the .NET timer limit) counts as infinite. Use only from inside the actor.
/// </summary>
public interface ITimerScheduler
{
    /// <summary>Sends <paramref name="message"/> once, after <paramref name="delay"/>.</summary>
    void StartSingleTimer(object key, object message, TimeSpan delay);

    /// <summary>Sends <paramref name="message"/> every <paramref name="interval"/>, the first time after one interval.</summary>
    void StartPeriodicTimer(object key, object message, TimeSpan interval);

    /// <summary>Sends <paramref name="message"/> after <paramref name="initialDelay"/>, then every <paramref name="interval"/>.</summary>
    void StartPeriodicTimer(object key, object message, TimeSpan initialDelay, TimeSpan interval);

    /// <summary>Whether a timer with this key is running (a single timer stops running when its message is delivered).</summary>
    bool IsTimerActive(object key);

    /// <summary>Cancels the timer with this key, if any.</summary>
    void Cancel(object key);

    /// <summary>Cancels every timer of the actor.</summary>
    void CancelAll();
}
