namespace MeshActors.Discovery;

/// <summary>Which registry a node announces itself in, and its timing.</summary>
public sealed record DiscoveryOptions
{
    /// <summary>"local" (the default: a shared directory on this machine) or a Redis connection string (<c>localhost:6379</c>, <c>redis://host:port</c>, or a StackExchange.Redis configuration string).</summary>
    public string Registry { get; init; } = "local";

    /// <summary>How often the node refreshes its registration. Default 2 s (Marketrix refreshes about every 2 s).</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a registration lives without a heartbeat. Default 6 s (Marketrix recommends 5-10 s).</summary>
    public TimeSpan Ttl { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>Prefix of every key, so several meshes can share one Redis. Default "mesh".</summary>
    public string KeyPrefix { get; init; } = "mesh";
}
