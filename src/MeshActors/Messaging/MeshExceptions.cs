namespace MeshActors.Messaging;

/// <summary>No node hosts the requested service.</summary>
public sealed class NoServiceProviderException(string service, string? detail = null)
    : Exception($"No node hosts service '{service}'{detail}.")
{
    /// <summary>The service that was requested.</summary>
    public string Service { get; } = service;
}

/// <summary>A service provider answered with an error: its handler threw (<see cref="ErrorCode"/> <c>handler_error</c>, with the exception's type name and message, never its stack trace), or it could not take the request.</summary>
public sealed class RemoteServiceException(string service, string nodeId, string errorCode, string remoteType, string remoteMessage)
    : Exception($"Service '{service}' on node {nodeId} failed: {remoteType}: {remoteMessage}")
{
    /// <summary>The service that failed.</summary>
    public string Service { get; } = service;

    /// <summary>The node that answered with the error.</summary>
    public string NodeId { get; } = nodeId;

    /// <summary>The protocol error code (<see cref="Protocol.ErrorCodes"/>): <c>handler_error</c> when the handler threw.</summary>
    public string ErrorCode { get; } = errorCode;

    /// <summary>The full type name of the exception the handler threw, or the error code when no handler ran.</summary>
    public string RemoteType { get; } = remoteType;

    /// <summary>The message of the exception the handler threw, or the provider's explanation.</summary>
    public string RemoteMessage { get; } = remoteMessage;
}

/// <summary>An actor hosting a service never took a request (it stopped, or its bounded mailbox was full): answered <c>unavailable</c>, so the caller may try another provider.</summary>
internal sealed class RequestNotTakenException(string reason) : Exception($"could not give the request to its handler actor ({reason})");
