namespace MeshActors.Cli;

/// <summary>Prints what arrives, but what arrives before <see cref="Release"/> only then, in its order.</summary>
internal sealed class HeldLines<T>(Action<T> print)
{
    private readonly object _gate = new();
    private List<T>? _held = [];

    public void Add(T item)
    {
        lock (_gate)
        {
            if (_held is null)
                print(item);
            else
                _held.Add(item);
        }
    }

    /// <summary>Prints what was held, and from now on each item as it arrives.</summary>
    public void Release()
    {
        lock (_gate)
        {
            foreach (var item in _held ?? [])
                print(item);
            _held = null;
        }
    }
}
