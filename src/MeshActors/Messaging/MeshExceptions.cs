namespace MeshActors.Messaging;

/// <summary>No node hosts the requested service.</summary>
public sealed class NoServiceProviderException(string service)
    : Exception($"No node hosts service '{service}'.")
{
    /// <summary>The service that was requested.</summary>
    public string Service { get; } = service;
}

/// <summary>A service handler threw; carries the remote exception's type name and message, never its stack trace.</summary>
public sealed class RemoteServiceException(string service, string nodeId, string remoteType, string remoteMessage)
    : Exception($"Service '{service}' on node {nodeId} failed: {remoteType}: {remoteMessage}")
{
    /// <summary>The service that failed.</summary>
    public string Service { get; } = service;

    /// <summary>The node whose handler threw.</summary>
    public string NodeId { get; } = nodeId;

    /// <summary>The full type name of the exception the handler threw.</summary>
    public string RemoteType { get; } = remoteType;

    /// <summary>The message of the exception the handler threw.</summary>
    public string RemoteMessage { get; } = remoteMessage;
}
