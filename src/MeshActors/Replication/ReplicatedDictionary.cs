using System.Collections;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using MeshActors.Actors;

namespace MeshActors.Replication;

/// <summary>A key/value dictionary replicated on every node that opens it, converging after concurrent writes, with conflicts reported (docs/replication.md).</summary>
/// <remarks>
/// Open it with <see cref="IMesh.OpenDictionaryAsync{T}"/>. Reads are local and never wait: they see the snapshot the
/// replica's actor published last. Writes go through that actor (<see cref="Actor"/>), which other actors may message
/// directly. Dispose it to close this node's replica; the other replicas keep the data.
/// </remarks>
public sealed class ReplicatedDictionary<T> : IReadOnlyDictionary<string, T>, IAsyncDisposable
{
    private readonly ReplicaView<T> _view;
    private readonly Action _closed;
    private int _disposed;

    internal ReplicatedDictionary(string name, IActorRef actor, ReplicaView<T> view, Action closed)
    {
        Name = name;
        Actor = actor;
        _view = view;
        _closed = closed;
    }

    /// <summary>The dictionary's name, the same on every node.</summary>
    public string Name { get; }

    /// <summary>This node's replica actor: it accepts <see cref="DictionarySet{T}"/>, <see cref="DictionaryRemove"/>, <see cref="DictionaryGet"/> and <see cref="WatchDictionary"/>.</summary>
    public IActorRef Actor { get; }

    /// <summary>This replica's counters: bad input, conflicts, failed handlers, states exchanged.</summary>
    public ReplicationStats Stats => _view.Stats;

    /// <summary>Every key and value as this replica holds them now: an immutable snapshot that later writes do not change.</summary>
    public ImmutableDictionary<string, T> Snapshot => _view.Snapshot;

    /// <summary>
    /// The keys that hold concurrent writes here now, each as the conflict this replica found last: its writes side by
    /// side, the winner and the value shown. A key leaves it at its next write, which has seen them all and replaces them.
    /// </summary>
    /// <remarks>
    /// An immutable snapshot, read on its own as <see cref="Snapshot"/> is. A replica that opens after the conflict finds it
    /// here (its open merged the concurrent writes), though <see cref="OnConflict"/> could not yet report it.
    /// </remarks>
    public ImmutableDictionary<string, DictionaryConflict<T>> Conflicts => _view.Conflicts;

    /// <summary>The number of keys in the latest snapshot.</summary>
    /// <remarks>Each read takes the latest snapshot on its own: to read several things that must agree, read them from one <see cref="Snapshot"/>.</remarks>
    public int Count => Snapshot.Count;

    /// <summary>The keys of the latest snapshot.</summary>
    /// <remarks>Read while writes go on, <see cref="Keys"/> and <see cref="Values"/> may come from different snapshots and not pair up: take <see cref="Snapshot"/> once and read both from it.</remarks>
    public IEnumerable<string> Keys => Snapshot.Keys;

    /// <summary>The values of the latest snapshot.</summary>
    /// <remarks>Read while writes go on, <see cref="Keys"/> and <see cref="Values"/> may come from different snapshots and not pair up: take <see cref="Snapshot"/> once and read both from it.</remarks>
    public IEnumerable<T> Values => Snapshot.Values;

    /// <inheritdoc />
    /// <exception cref="KeyNotFoundException">The key is not in the dictionary here.</exception>
    public T this[string key] => Snapshot[key];

    /// <inheritdoc />
    public bool ContainsKey(string key) => Snapshot.ContainsKey(key);

    /// <inheritdoc />
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out T value) => Snapshot.TryGetValue(key, out value);

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, T>> GetEnumerator() => Snapshot.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>; completes once this replica shows it and it is queued for every other replica.</summary>
    /// <exception cref="Exception">The value cannot be written as JSON: what the serializer (or the value itself) threw, at once.</exception>
    /// <exception cref="ArgumentException">
    /// The write is larger than a frame of this node or of a replica in its routes carries (docs/replication.md, The
    /// dictionary, Size), or its JSON does not read back as <typeparamref name="T"/>; nothing is written.
    /// </exception>
    /// <remarks>
    /// Every replica, this one included, shows the value as read back from its JSON: a property the JSON leaves out
    /// is not shown here either, and changing <paramref name="value"/> afterwards changes nothing.
    /// </remarks>
    public Task SetAsync(string key, T value, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return WriteAsync(new DictionarySet<T>(key, value), cancellationToken);
    }

    /// <summary>Sets <paramref name="key"/> to what <paramref name="update"/> makes of its value here (default when absent), atomically against this node's other writes; returns the new value.</summary>
    /// <remarks>
    /// An update on another node at the same time is a concurrent write: a conflict, decided as any other. The function
    /// runs on the replica's actor, so keep it short; an exception it throws is thrown here and nothing is written.
    /// </remarks>
    public async Task<T> UpdateAsync(string key, Func<T?, T> update, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(update);
        var updated = (DictionaryValue<T>)await WriteAsync(new DictionaryUpdate<T>(key, update), cancellationToken).ConfigureAwait(false);
        return updated.Value!;
    }

    /// <summary>Removes <paramref name="key"/> everywhere; false when it was not here and holds no concurrent writes (nothing is written then).</summary>
    public async Task<bool> RemoveAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var written = (DictionaryWritten)await WriteAsync(new DictionaryRemove(key), cancellationToken).ConfigureAwait(false);
        return written.Changed;
    }

    /// <summary>Calls <paramref name="handler"/> on the replica's actor for every key whose value changes here, by a local or a remote write, until disposed.</summary>
    /// <remarks>
    /// Handlers run one change at a time, in order, after the snapshot shows the change; one that throws is logged and
    /// counted. A handler must not wait for a write to this dictionary: the write needs the actor the handler holds
    /// (it fails after the ask's 5 s timeout). Start it without waiting instead.
    /// </remarks>
    public IDisposable OnChanged(Action<DictionaryChange<T>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return _view.AddChangeHandler(handler);
    }

    /// <summary>Calls <paramref name="handler"/> whenever this replica finds concurrent writes to a key, until disposed.</summary>
    public IDisposable OnConflict(Action<DictionaryConflict<T>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return _view.AddConflictHandler(handler);
    }

    /// <summary>Closes this node's replica: its actor stops and it leaves the dictionary's topic. Returns after at most 5 s; the name can be opened again on this node once the actor has stopped.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        if (await Actor.GracefulStop(TimeSpan.FromSeconds(5)).ConfigureAwait(false))
        {
            _closed();
            return;
        }

        // Still busy (a handler that does not return): the name stays taken until it has stopped, or a reopen would
        // run a second replica beside it, still subscribed and merging.
        _ = ReleaseWhenStoppedAsync();

        async Task ReleaseWhenStoppedAsync()
        {
            await Actor.GracefulStop(TimeSpan.MaxValue).ConfigureAwait(false);
            _closed();
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"ReplicatedDictionary<{typeof(T).Name}>({Name}, {Count} keys)";

    /// <summary>
    /// Applies a write on the actor (an ask: answered at once, bounded by the actor system's ask timeout), then waits,
    /// for as long as the caller's token allows, until it is queued for every other replica, as a publish waits for room.
    /// </summary>
    private async Task<object> WriteAsync(object write, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var answer = await Actor.Ask<object>(new ReplicatedDictionaryActor<T>.FacadeWrite(write), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (answer is not ReplicatedDictionaryActor<T>.Applied applied)
            return answer;
        await applied.Queued.WaitAsync(cancellationToken).ConfigureAwait(false);
        return applied.Reply;
    }
}
