using MeshActors.Messaging;
using MeshActors.Replication;

namespace MeshActors;

/// <summary>Shorthands over <see cref="IMesh"/>: synchronous handlers, work done only when someone listens, shared objects and counters.</summary>
public static class MeshExtensions
{
    /// <summary>Publishes the value <paramref name="compute"/> returns, calling it only when some node listens to <paramref name="topic"/>; true when it was published.</summary>
    public static async ValueTask<bool> PublishIfListenedAsync<T>(this IMesh mesh, string topic, Func<T> compute, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        ArgumentNullException.ThrowIfNull(compute);
        if (!mesh.HasSubscribers(topic))
            return false;
        await mesh.PublishAsync(topic, compute(), cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Calls <paramref name="handler"/> for each message on <paramref name="topic"/>, read as <typeparamref name="T"/>, until disposed.</summary>
    public static MeshRegistration Subscribe<T>(this IMesh mesh, string topic, Action<T> handler)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        ArgumentNullException.ThrowIfNull(handler);
        return mesh.Subscribe<T>(topic, (message, _) =>
        {
            handler(message);
            return default;
        });
    }

    /// <summary>Hosts <paramref name="service"/> with a synchronous handler until disposed.</summary>
    public static MeshRegistration AddService<TRequest, TResponse>(this IMesh mesh, string service, Func<TRequest, TResponse> handler)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        ArgumentNullException.ThrowIfNull(handler);
        return mesh.AddService<TRequest, TResponse>(service, (request, _, _) => new ValueTask<TResponse>(handler(request)));
    }

    /// <summary>Hosts <paramref name="service"/> with an asynchronous handler until disposed.</summary>
    public static MeshRegistration AddService<TRequest, TResponse>(this IMesh mesh, string service, Func<TRequest, CancellationToken, Task<TResponse>> handler)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        ArgumentNullException.ThrowIfNull(handler);
        return mesh.AddService<TRequest, TResponse>(service, (request, _, cancellationToken) => new ValueTask<TResponse>(handler(request, cancellationToken)));
    }

    /// <summary>Sends <paramref name="request"/> to one provider of <paramref name="service"/> with this timeout and returns its response.</summary>
    public static Task<TResponse> RequestAsync<TRequest, TResponse>(this IMesh mesh, string service, TRequest request, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        return mesh.RequestAsync<TRequest, TResponse>(service, request, new RequestOptions { Timeout = timeout }, cancellationToken);
    }

    /// <summary>Opens this node's copy of the shared object <paramref name="name"/>, with the value the reachable nodes hold (as <see cref="IMesh.OpenDictionaryAsync{T}"/> does).</summary>
    public static async Task<SharedObject<T>> OpenSharedObjectAsync<T>(this IMesh mesh, string name, ReplicatedDictionaryOptions<T>? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new SharedObject<T>(name, await mesh.OpenDictionaryAsync(SharedObjects.ObjectPrefix + name, options, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Opens this node's copy of the shared counter <paramref name="name"/>, with the increments the reachable nodes hold.</summary>
    public static async Task<SharedCounter> OpenCounterAsync(this IMesh mesh, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var components = await mesh.OpenDictionaryAsync<long>(SharedObjects.CounterPrefix + name, cancellationToken: cancellationToken).ConfigureAwait(false);

        // A key of this opening's own, never written by another: its writes cannot conflict.
        return new SharedCounter(name, components, mesh.Self.Id + "/" + Guid.NewGuid().ToString("N"));
    }
}
