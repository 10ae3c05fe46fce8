using System.Collections.Concurrent;
using MeshActors.Actors;

namespace MeshActors.Hosting;

/// <summary>Where application code and actors find well-known actors by a key type, as in Akka.Hosting: the mesh's own (<see cref="TopicRouterKey"/>, ...) and the application's.</summary>
/// <remarks>Thread-safe. A key is registered once; <see cref="GetAsync{TKey}"/> waits for a key not registered yet, so code may ask before the host has started.</remarks>
public sealed class ActorRegistry
{
    private readonly ConcurrentDictionary<Type, TaskCompletionSource<IActorRef>> _entries = new();

    /// <summary>Registers <paramref name="actor"/> under <typeparamref name="TKey"/>.</summary>
    /// <exception cref="InvalidOperationException">Another actor is registered under <typeparamref name="TKey"/> and <paramref name="overwrite"/> is false.</exception>
    public void Register<TKey>(IActorRef actor, bool overwrite = false)
    {
        if (!TryRegister<TKey>(actor, overwrite))
            throw new InvalidOperationException($"An actor is already registered under {typeof(TKey).Name}: {Get<TKey>().Path}.");
    }

    /// <summary>Registers <paramref name="actor"/> under <typeparamref name="TKey"/>; false when another is registered and <paramref name="overwrite"/> is false.</summary>
    public bool TryRegister<TKey>(IActorRef actor, bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var entry = Entry(typeof(TKey));
        if (entry.TrySetResult(actor))
            return true;
        if (entry.Task.Result.Equals(actor))
            return true;
        if (!overwrite)
            return false;
        var replacement = new TaskCompletionSource<IActorRef>(TaskCreationOptions.RunContinuationsAsynchronously);
        replacement.SetResult(actor);
        _entries[typeof(TKey)] = replacement;
        return true;
    }

    /// <summary>The actor registered under <typeparamref name="TKey"/>.</summary>
    /// <exception cref="KeyNotFoundException">Nothing is registered under it (yet: the mesh's actors are registered when the host starts).</exception>
    public IActorRef Get<TKey>() => TryGet<TKey>(out var actor)
        ? actor
        : throw new KeyNotFoundException($"No actor is registered under {typeof(TKey).Name}. The mesh's actors are registered when the host starts; use GetAsync to wait for them.");

    /// <summary>The actor registered under <typeparamref name="TKey"/>, if any.</summary>
    public bool TryGet<TKey>(out IActorRef actor)
    {
        if (_entries.TryGetValue(typeof(TKey), out var entry) && entry.Task.IsCompletedSuccessfully)
        {
            actor = entry.Task.Result;
            return true;
        }

        actor = ActorRefs.Nobody;
        return false;
    }

    /// <summary>The actor registered under <typeparamref name="TKey"/>, once it is.</summary>
    public Task<IActorRef> GetAsync<TKey>(CancellationToken cancellationToken = default) => Entry(typeof(TKey)).Task.WaitAsync(cancellationToken);

    private TaskCompletionSource<IActorRef> Entry(Type key) =>
        _entries.GetOrAdd(key, static _ => new TaskCompletionSource<IActorRef>(TaskCreationOptions.RunContinuationsAsynchronously));
}
