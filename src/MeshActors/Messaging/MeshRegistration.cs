namespace MeshActors.Messaging;

/// <summary>A subscription or hosted service of this node: active once <see cref="Ready"/> completes, withdrawn by <see cref="Dispose"/>.</summary>
public sealed class MeshRegistration : IDisposable
{
    private Action? _withdraw;

    internal MeshRegistration(Action withdraw) => _withdraw = withdraw;

    /// <summary>Completes when the subscription or service is active on this node and being announced to the others; faults when it was refused.</summary>
    public Task Ready { get; internal set; } = Task.CompletedTask;

    /// <summary>True once disposed: no message reaches a callback of this subscription after that.</summary>
    public bool IsDisposed => Volatile.Read(ref _withdraw) is null;

    /// <summary>Withdraws the subscription or service; safe to call more than once.</summary>
    public void Dispose() => Interlocked.Exchange(ref _withdraw, null)?.Invoke();
}
