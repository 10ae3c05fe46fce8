using Microsoft.Extensions.Logging;

namespace MeshActors.Discovery;

/// <summary>The registry actor's log lines: one per state change, never one per retry.</summary>
public sealed partial class RegistryActor
{
    private static partial class Log
    {
        [LoggerMessage(7010, LogLevel.Information, "Registered node {NodeId} ({Name} at {Address}) in {Registry}")]
        public static partial void Registered(ILogger logger, string nodeId, string name, string address, string registry);

        [LoggerMessage(7011, LogLevel.Warning, "Registry {Registry} unavailable ({Reason}); keeping the {Count} known members and retrying")]
        public static partial void RegistryUnavailable(ILogger logger, string registry, string reason, int count);

        [LoggerMessage(7012, LogLevel.Error, "Registry {Registry} failed; keeping the {Count} known members and retrying")]
        public static partial void RegistryFailed(ILogger logger, string registry, int count, Exception exception);

        [LoggerMessage(7013, LogLevel.Information, "Registry {Registry} available again after {Downtime}; node {NodeId} registered again")]
        public static partial void RegistryAvailable(ILogger logger, string registry, TimeSpan downtime, string nodeId);

        [LoggerMessage(7022, LogLevel.Warning, "Node id {NodeId} is registered more than once ({Registrations}); one of them stands for it until the others expire")]
        public static partial void DuplicateId(ILogger logger, string nodeId, string registrations);

        [LoggerMessage(7014, LogLevel.Information, "Member up: {NodeId} ({Name} at {Address})")]
        public static partial void MemberUp(ILogger logger, string nodeId, string name, string address);

        [LoggerMessage(7015, LogLevel.Information, "Member down ({Reason}): {NodeId} ({Name} at {Address})")]
        public static partial void MemberDown(ILogger logger, MemberDownReason reason, string nodeId, string name, string address);

        [LoggerMessage(7016, LogLevel.Debug, "Member updated: {NodeId} ({Name} at {Address})")]
        public static partial void MemberUpdated(ILogger logger, string nodeId, string name, string address);

        [LoggerMessage(7017, LogLevel.Information, "Deregistered node {NodeId} from {Registry}")]
        public static partial void Deregistered(ILogger logger, string nodeId, string registry);

        [LoggerMessage(7018, LogLevel.Warning, "Could not deregister node {NodeId} ({Reason}); its registration expires within {Ttl}")]
        public static partial void DeregistrationFailed(ILogger logger, string nodeId, string reason, TimeSpan ttl);

        [LoggerMessage(7019, LogLevel.Warning, "Refused an update of this node's registration: {Reason}")]
        public static partial void UpdateRefused(ILogger logger, string reason);

        [LoggerMessage(7020, LogLevel.Debug, "Could not deregister node {NodeId} ({Reason}), which never registered: a registration that got through all the same expires within {Ttl}")]
        public static partial void DeregistrationFailedUnregistered(ILogger logger, string nodeId, string reason, TimeSpan ttl);
    }
}
