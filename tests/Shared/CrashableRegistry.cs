using System.Collections.Concurrent;
using MeshActors.Discovery;

namespace MeshActors.Testing;

/// <summary>
/// Wraps a real registry so a test can play a crash: after <see cref="Crash"/> every call fails and no event is
/// passed on, so the node stops heartbeating and cannot deregister, and its registration expires like a dead node's.
/// It can also play the client's connection events (<see cref="PlayConnectionState"/>) and a backend whose calls
/// block their caller's thread (<see cref="Block"/>), and counts the listings begun.
/// </summary>
public sealed class CrashableRegistry(IRegistry inner) : IRegistry
{
    private readonly ConcurrentDictionary<Delegate, Delegate> _wrapped = new();
    private readonly ManualResetEventSlim _unblocked = new(initialState: true);
    private TaskCompletionSource _listingsReleased = Released();
    private volatile bool _crashed;
    private int _listings;
    private int _blockedCalls;

    public string Description => inner.Description;

    public RegistryConnectionState ConnectionState => _crashed ? RegistryConnectionState.Disconnected : inner.ConnectionState;

    public event Action<RegistryConnectionState>? ConnectionStateChanged
    {
        add => inner.ConnectionStateChanged += Wrap(value);
        remove => inner.ConnectionStateChanged -= Unwrap(value);
    }

    public event Action<RegistryChange>? Changed
    {
        add => inner.Changed += Wrap(value);
        remove => inner.Changed -= Unwrap(value);
    }

    /// <summary>From now on, behaves like a process that died: silent.</summary>
    public void Crash() => _crashed = true;

    /// <summary>How many listings have begun, so a spec can wait for the registry actor's next rounds.</summary>
    public int ListingsStarted => Volatile.Read(ref _listings);

    /// <summary>How many calls are blocked by <see cref="Block"/> right now.</summary>
    public int BlockedCalls => Volatile.Read(ref _blockedCalls);

    /// <summary>Raises <see cref="ConnectionStateChanged"/> as the client does when it loses or regains its connection, leaving the backend alone.</summary>
    public void PlayConnectionState(RegistryConnectionState state)
    {
        foreach (var handler in _wrapped.Keys.OfType<Action<RegistryConnectionState>>())
            handler(state);
    }

    /// <summary>From now on, every call blocks the thread that makes it, before returning a task, until <see cref="Unblock"/>: a backend doing synchronous I/O on a hung file system.</summary>
    public void Block() => _unblocked.Reset();

    /// <summary>
    /// From now on, listings answer only after <see cref="Unblock"/>, without holding a thread meanwhile: a Redis
    /// keyspace of millions of other keys, scanned one page at a time.
    /// </summary>
    public void HoldListings() => Volatile.Write(ref _listingsReleased, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>Lets blocked and later calls through, and held listings answer.</summary>
    public void Unblock()
    {
        _unblocked.Set();
        Volatile.Read(ref _listingsReleased).TrySetResult();
    }

    public Task RegisterAsync(MeshMember self, CancellationToken cancellationToken = default) => Call(() => inner.RegisterAsync(self, cancellationToken));

    public async Task<bool> RefreshAsync(MeshMember self, CancellationToken cancellationToken = default)
    {
        var kept = true;
        await Call(async () => kept = await inner.RefreshAsync(self, cancellationToken));
        return kept;
    }

    public Task DeregisterAsync(MeshMember self, CancellationToken cancellationToken = default) => Call(() => inner.DeregisterAsync(self, cancellationToken));

    public async Task<RegistryListing> ListAsync(CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _listings);
        await Call(() => Task.CompletedTask);
        await Volatile.Read(ref _listingsReleased).Task.WaitAsync(cancellationToken);
        return await inner.ListAsync(cancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        Unblock();
        return inner.DisposeAsync();
    }

    private Task Call(Func<Task> call)
    {
        if (!_unblocked.IsSet)
        {
            Interlocked.Increment(ref _blockedCalls);
            _unblocked.Wait();
            Interlocked.Decrement(ref _blockedCalls);
        }

        return _crashed ? Task.FromException(new RegistryUnavailableException("crashed")) : call();
    }

    private static TaskCompletionSource Released()
    {
        var released = new TaskCompletionSource();
        released.SetResult();
        return released;
    }

    private Action<T>? Wrap<T>(Action<T>? handler) =>
        handler is null ? null : (Action<T>)_wrapped.GetOrAdd(handler, _ => new Action<T>(value =>
        {
            if (!_crashed)
                handler(value);
        }));

    private Action<T>? Unwrap<T>(Action<T>? handler) =>
        handler is not null && _wrapped.TryRemove(handler, out var wrapped) ? (Action<T>)wrapped : null;
}
