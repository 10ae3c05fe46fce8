namespace MeshActors.Discovery;

/// <summary>Where mesh nodes announce themselves and find each other: a Redis keyspace or a shared local directory.</summary>
/// <remarks>
/// Backends are made by <see cref="RegistryFactory"/>. Every call is bounded by <see cref="DiscoveryOptions.CommandTimeout"/>
/// and fails with <see cref="RegistryUnavailableException"/> when the backend cannot be reached; the caller retries.
/// Events are raised on background threads: handlers should only hand the value on (e.g. tell an actor).
/// </remarks>
public interface IRegistry : IAsyncDisposable
{
    /// <summary>What this registry is and where, for logs: e.g. "redis 127.0.0.1:6379 prefix mesh".</summary>
    string Description { get; }

    /// <summary>Whether the backend is reachable right now, as far as the registry knows.</summary>
    RegistryConnectionState ConnectionState { get; }

    /// <summary>Raised once per change of <see cref="ConnectionState"/>.</summary>
    event Action<RegistryConnectionState>? ConnectionStateChanged;

    /// <summary>
    /// Raised when a node announces a join or a graceful leave, this node included; announcements can be lost or
    /// repeated, so a listener must treat them as hints and still reconcile with <see cref="ListAsync"/>.
    /// </summary>
    event Action<RegistryChange>? Changed;

    /// <summary>Writes <paramref name="self"/>'s registration with a fresh TTL and announces it: used at start and whenever the registration changes.</summary>
    /// <exception cref="ArgumentException">The member cannot be registered as it is (e.g. a name containing ':').</exception>
    Task RegisterAsync(MeshMember self, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes <paramref name="self"/>'s registration again with a fresh TTL, without announcing it (the heartbeat). True
    /// when it was there; false when it was gone without a deregistration (the keyspace flushed, the directory wiped, or
    /// this node stalled past its TTL): it is then registered afresh, announced, and the other nodes' registrations are
    /// likely gone too, until they heartbeat.
    /// </summary>
    Task<bool> RefreshAsync(MeshMember self, CancellationToken cancellationToken = default);

    /// <summary>Announces the leave, then removes <paramref name="self"/>'s registration at once (announced first, so no peer that hears of it takes the node for expired).</summary>
    Task DeregisterAsync(MeshMember self, CancellationToken cancellationToken = default);

    /// <summary>Lists every live registration: the valid members, and the entries that were skipped and why.</summary>
    Task<RegistryListing> ListAsync(CancellationToken cancellationToken = default);
}
