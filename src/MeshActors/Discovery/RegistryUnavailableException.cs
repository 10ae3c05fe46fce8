namespace MeshActors.Discovery;

/// <summary>The registry's backend could not be reached, or did not answer within <see cref="DiscoveryOptions.CommandTimeout"/>; retry later.</summary>
public sealed class RegistryUnavailableException(string message, Exception? innerException = null)
    : Exception(message, innerException);
