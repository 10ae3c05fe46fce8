using System.Collections.Immutable;

namespace MeshActors.Replication;

/// <summary>What the actor of one replica shares with its <see cref="ReplicatedDictionary{T}"/>: the snapshot readers see, the handlers it calls, its counters.</summary>
/// <remarks>Only the actor writes the snapshot; readers take it without a lock, so a read never waits for a merge.</remarks>
internal sealed class ReplicaView<T>
{
    private ImmutableDictionary<string, T> _snapshot = ImmutableDictionary.Create<string, T>(StringComparer.Ordinal);
    private ImmutableDictionary<string, DictionaryConflict<T>> _conflicts = ImmutableDictionary.Create<string, DictionaryConflict<T>>(StringComparer.Ordinal);
    private ImmutableArray<Action<DictionaryChange<T>>> _changeHandlers = [];
    private ImmutableArray<Action<DictionaryConflict<T>>> _conflictHandlers = [];

    public ImmutableDictionary<string, T> Snapshot
    {
        get => Volatile.Read(ref _snapshot);
        set => Volatile.Write(ref _snapshot, value);
    }

    /// <summary>The keys whose concurrent writes stand now; published with <see cref="Snapshot"/>, before it.</summary>
    public ImmutableDictionary<string, DictionaryConflict<T>> Conflicts
    {
        get => Volatile.Read(ref _conflicts);
        set => Volatile.Write(ref _conflicts, value);
    }

    public ReplicationStats Stats { get; } = new();

    public ImmutableArray<Action<DictionaryChange<T>>> ChangeHandlers => _changeHandlers;

    public ImmutableArray<Action<DictionaryConflict<T>>> ConflictHandlers => _conflictHandlers;

    public IDisposable AddChangeHandler(Action<DictionaryChange<T>> handler) => Add(ref _changeHandlers, handler);

    public IDisposable AddConflictHandler(Action<DictionaryConflict<T>> handler) => Add(ref _conflictHandlers, handler);

    private Registration Add<THandler>(ref ImmutableArray<THandler> handlers, THandler handler)
        where THandler : class
    {
        ImmutableInterlocked.Update(ref handlers, list => list.Add(handler));
        return new Registration(this, handler);
    }

    private void Remove(object handler)
    {
        if (handler is Action<DictionaryChange<T>> change)
            ImmutableInterlocked.Update(ref _changeHandlers, list => list.Remove(change));
        else if (handler is Action<DictionaryConflict<T>> conflict)
            ImmutableInterlocked.Update(ref _conflictHandlers, list => list.Remove(conflict));
    }

    private sealed class Registration(ReplicaView<T> view, object handler) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
                view.Remove(handler);
        }
    }
}
