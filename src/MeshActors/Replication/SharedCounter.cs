namespace MeshActors.Replication;

/// <summary>A number that every node may add to at the same time without losing an addition: each opening of it owns a component, and the value is their sum.</summary>
/// <remarks>
/// Open it with <see cref="MeshExtensions.OpenCounterAsync"/>. Underneath is a <see cref="ReplicatedDictionary{T}"/> of
/// <see cref="long"/>: one key per opening (node id and a fresh id), written only by that opening, so its writes never
/// conflict and every increment counts once, in any arrival order. Components are kept after their opening closes
/// (they hold its increments), so the dictionary grows by one key per opening.
/// </remarks>
public sealed class SharedCounter : IAsyncDisposable
{
    private readonly ReplicatedDictionary<long> _components;
    private readonly string _mine;

    internal SharedCounter(string name, ReplicatedDictionary<long> components, string mine)
    {
        Name = name;
        _components = components;
        _mine = mine;
    }

    /// <summary>The counter's name, the same on every node.</summary>
    public string Name { get; }

    /// <summary>The sum of every component this node has seen.</summary>
    public long Value
    {
        get
        {
            long sum = 0;
            foreach (var (_, component) in _components.Snapshot)
                sum = unchecked(sum + component);
            return sum;
        }
    }

    /// <summary>The counters of the dictionary underneath.</summary>
    public ReplicationStats Stats => _components.Stats;

    /// <summary>Adds <paramref name="by"/> (negative to subtract) and returns the value this node then sees.</summary>
    public async Task<long> IncrementAsync(long by = 1, CancellationToken cancellationToken = default)
    {
        await _components.UpdateAsync(_mine, component => unchecked(component + by), cancellationToken).ConfigureAwait(false);
        return Value;
    }

    /// <summary>Subtracts <paramref name="by"/> and returns the value this node then sees.</summary>
    public Task<long> DecrementAsync(long by = 1, CancellationToken cancellationToken = default) => IncrementAsync(unchecked(-by), cancellationToken);

    /// <summary>Calls <paramref name="handler"/> with the new value whenever it changes here, by a local or a remote increment, until disposed.</summary>
    public IDisposable OnChanged(Action<long> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        // Several components may change in one message, each a change event of the dictionary's: the handler hears of
        // each new total once. The events come one at a time, on the replica's actor.
        var reported = Value;
        return _components.OnChanged(_ =>
        {
            var value = Value;
            if (value == reported)
                return;
            reported = value;
            handler(value);
        });
    }

    /// <summary>Closes this node's copy; its increments stay counted everywhere.</summary>
    public ValueTask DisposeAsync() => _components.DisposeAsync();

    /// <inheritdoc />
    public override string ToString() => $"SharedCounter({Name} = {Value})";
}
