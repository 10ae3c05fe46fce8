namespace MeshActors.Actors.Internal;

/// <summary>
/// The children of one actor by name, with those asked to stop. Thread-safe (a guardian's children are created from
/// any thread); a name stays taken until its child has terminated. Once closed for termination, it refuses new children.
/// </summary>
internal sealed class ChildrenContainer
{
    private const string AnonymousAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+~";

    private readonly Dictionary<string, LocalActorRef> _byName = new(StringComparer.Ordinal);
    private HashSet<LocalActorRef>? _stopping;
    private long _anonymousCount;
    private bool _closed;

    /// <summary>The shared container of an actor that stops without ever having had children: closed and empty.</summary>
    public static ChildrenContainer ClosedEmpty { get; } = new() { _closed = true };

    public LocalActorRef[] Snapshot()
    {
        lock (_byName)
        {
            return [.. _byName.Values];
        }
    }

    public LocalActorRef? Get(string name)
    {
        lock (_byName)
        {
            return _byName.GetValueOrDefault(name);
        }
    }

    /// <summary>Reserves <paramref name="name"/> (or a fresh "$a"-style name when null) and registers the child <paramref name="create"/> makes.</summary>
    public LocalActorRef Add<TState>(string? name, TState state, Func<string, TState, LocalActorRef> create, ActorPath parentPath)
    {
        lock (_byName)
        {
            if (_closed)
            {
                throw new InvalidOperationException($"Cannot create a child of {parentPath}: it is stopping.");
            }

            name ??= NextAnonymousName();
            if (_byName.ContainsKey(name))
            {
                throw new InvalidActorNameException($"Actor name \"{name}\" is not unique under {parentPath}.");
            }

            var child = create(name, state);
            _byName.Add(name, child);
            return child;
        }
    }

    /// <summary>Marks a child as stopping (so that a restart waits for it); false when it is not a child.</summary>
    public bool MarkStopping(LocalActorRef child)
    {
        lock (_byName)
        {
            if (!IsChild(child))
            {
                return false;
            }

            (_stopping ??= []).Add(child);
            return true;
        }
    }

    /// <summary>Refuses new children from now on and returns the current ones, all marked stopping.</summary>
    public LocalActorRef[] StopAll()
    {
        lock (_byName)
        {
            _closed = true;
            var children = _byName.Values.ToArray();
            if (children.Length > 0)
            {
                _stopping ??= [];
                _stopping.UnionWith(children);
            }

            return children;
        }
    }

    /// <summary>Forgets a child that terminated; false when it was not (or no longer) a child.</summary>
    public bool Remove(LocalActorRef child)
    {
        lock (_byName)
        {
            if (!IsChild(child))
            {
                return false;
            }

            _byName.Remove(child.Path.Name);
            _stopping?.Remove(child);
            return true;
        }
    }

    public bool IsEmpty
    {
        get
        {
            lock (_byName)
            {
                return _byName.Count == 0;
            }
        }
    }

    public bool HasStopping
    {
        get
        {
            lock (_byName)
            {
                return _stopping is { Count: > 0 };
            }
        }
    }

    private bool IsChild(LocalActorRef child) =>
        _byName.TryGetValue(child.Path.Name, out var current) && ReferenceEquals(current, child);

    private string NextAnonymousName()
    {
        Span<char> buffer = stackalloc char[12];
        var position = buffer.Length;
        var n = _anonymousCount++;
        do
        {
            buffer[--position] = AnonymousAlphabet[(int)(n & 63)];
            n >>= 6;
        }
        while (n != 0);

        buffer[--position] = '$';
        return new string(buffer[position..]);
    }
}
