namespace MeshActors.Discovery;

/// <summary>Whether a registry's backend is reachable.</summary>
public enum RegistryConnectionState
{
    /// <summary>Calls fail with <see cref="RegistryUnavailableException"/> until the backend returns.</summary>
    Disconnected,

    /// <summary>Calls reach the backend.</summary>
    Connected,
}
