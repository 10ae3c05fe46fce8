namespace MeshActors.Replication;

/// <summary>One value kept in step on every node that opens it: a <see cref="ReplicatedDictionary{T}"/> of one key, with its guarantees and its conflicts.</summary>
/// <remarks>
/// Open it with <see cref="MeshExtensions.OpenSharedObjectAsync{T}"/>. The value is replaced whole: updates made on two
/// nodes at the same time conflict, and one wins (or a resolver merges them), so a value whose parts change
/// independently is better kept as a dictionary of parts, and a number that many nodes add to as a <see cref="SharedCounter"/>.
/// </remarks>
public sealed class SharedObject<T> : IAsyncDisposable
{
    /// <summary>The dictionary key that holds the value.</summary>
    internal const string Key = "value";

    private readonly ReplicatedDictionary<T> _dictionary;

    internal SharedObject(string name, ReplicatedDictionary<T> dictionary)
    {
        Name = name;
        _dictionary = dictionary;
    }

    /// <summary>The object's name, the same on every node.</summary>
    public string Name { get; }

    /// <summary>True while the object has a value (it was set and not removed).</summary>
    public bool Exists => _dictionary.ContainsKey(Key);

    /// <summary>The value as this node holds it now; default when it does not exist.</summary>
    public T? Value => _dictionary.TryGetValue(Key, out var value) ? value : default;

    /// <summary>The counters of the dictionary underneath.</summary>
    public ReplicationStats Stats => _dictionary.Stats;

    /// <summary>Replaces the value everywhere.</summary>
    public Task SetAsync(T value, CancellationToken cancellationToken = default) => _dictionary.SetAsync(Key, value, cancellationToken);

    /// <summary>Replaces the value with what <paramref name="update"/> makes of it (default when it does not exist), atomically against this node's other updates; returns the new value.</summary>
    public Task<T> UpdateAsync(Func<T?, T> update, CancellationToken cancellationToken = default) => _dictionary.UpdateAsync(Key, update, cancellationToken);

    /// <summary>Removes the value everywhere; false when it did not exist here.</summary>
    public Task<bool> RemoveAsync(CancellationToken cancellationToken = default) => _dictionary.RemoveAsync(Key, cancellationToken);

    /// <summary>Calls <paramref name="handler"/> with each new value, local or remote, until disposed.</summary>
    public IDisposable OnChanged(Action<T> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return _dictionary.OnChanged(change =>
        {
            if (change.Kind == DictionaryChangeKind.Set)
                handler(change.Value!);
        });
    }

    /// <summary>Calls <paramref name="handler"/> when the value is removed (here or on another node), until disposed.</summary>
    public IDisposable OnRemoved(Action handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return _dictionary.OnChanged(change =>
        {
            if (change.Kind == DictionaryChangeKind.Removed)
                handler();
        });
    }

    /// <summary>Calls <paramref name="handler"/> when this node finds updates to the value that were concurrent, until disposed.</summary>
    public IDisposable OnConflict(Action<DictionaryConflict<T>> handler) => _dictionary.OnConflict(handler);

    /// <summary>Closes this node's copy; the other nodes keep the value.</summary>
    public ValueTask DisposeAsync() => _dictionary.DisposeAsync();

    /// <inheritdoc />
    public override string ToString() => $"SharedObject<{typeof(T).Name}>({Name})";
}
