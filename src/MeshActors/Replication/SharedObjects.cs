namespace MeshActors.Replication;

/// <summary>Opening shared objects and counters, each a replicated dictionary under a reserved name.</summary>
public static class SharedObjects
{
    /// <summary>The prefix of the dictionaries that hold shared objects.</summary>
    public const string ObjectPrefix = "$object/";

    /// <summary>The prefix of the dictionaries that hold shared counters.</summary>
    public const string CounterPrefix = "$counter/";

    /// <summary>Opens this node's copy of the shared object <paramref name="name"/>, with the value the reachable nodes hold (see <see cref="IMesh.OpenDictionaryAsync{T}"/>).</summary>
    public static async Task<SharedObject<T>> OpenSharedObjectAsync<T>(this IMesh mesh, string name, ReplicatedDictionaryOptions<T>? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new SharedObject<T>(name, await mesh.OpenDictionaryAsync(ObjectPrefix + name, options, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Opens this node's copy of the shared counter <paramref name="name"/>, with the increments the reachable nodes hold.</summary>
    public static async Task<SharedCounter> OpenCounterAsync(this IMesh mesh, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var components = await mesh.OpenDictionaryAsync<long>(CounterPrefix + name, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new SharedCounter(name, components, mesh.Self.Id + "/" + Guid.NewGuid().ToString("N"));
    }
}
