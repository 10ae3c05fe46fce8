using Microsoft.Extensions.Logging;

namespace MeshActors.Discovery;

/// <summary>Every log line of the discovery layer: one per state change or bad input, never one per retry.</summary>
internal static partial class DiscoveryLog
{
    [LoggerMessage(7001, LogLevel.Warning, "Skipping registry entry {Key}: {Reason}")]
    public static partial void SkippedEntry(ILogger logger, string key, string reason);

    [LoggerMessage(7002, LogLevel.Warning, "Ignoring an announcement on {Channel}: {Reason}")]
    public static partial void BadAnnouncement(ILogger logger, string channel, string reason);

    [LoggerMessage(7003, LogLevel.Information, "Registry {Registry} connected")]
    public static partial void Connected(ILogger logger, string registry);

    [LoggerMessage(7004, LogLevel.Warning, "Registry {Registry} unreachable: {Reason}")]
    public static partial void Disconnected(ILogger logger, string registry, string reason);

    [LoggerMessage(7005, LogLevel.Warning, "Registry {Registry} cannot listen for joins and leaves ({Reason}); they will be noticed at the next heartbeat")]
    public static partial void ChangeFeedUnavailable(ILogger logger, string registry, string reason);

    [LoggerMessage(7006, LogLevel.Information, "Removed {Path}: the lease of node {NodeId} expired at {ExpiredAt:O}")]
    public static partial void RemovedExpiredEntry(ILogger logger, string path, string nodeId, DateTimeOffset expiredAt);

    [LoggerMessage(7007, LogLevel.Error, "A handler of registry {Registry}'s events threw")]
    public static partial void HandlerFailed(ILogger logger, string registry, Exception exception);

    [LoggerMessage(7008, LogLevel.Debug, "Registry {Registry} still cannot listen for joins and leaves ({Reason})")]
    public static partial void ChangeFeedStillUnavailable(ILogger logger, string registry, string reason);

    [LoggerMessage(7009, LogLevel.Information, "Registry {Registry} listens for joins and leaves again")]
    public static partial void ChangeFeedListening(ILogger logger, string registry);

    [LoggerMessage(7021, LogLevel.Warning, "Registry {Registry} lost the entry of node {NodeId} without a deregistration ({Cause}); wrote it again, and the other nodes get one TTL to do the same")]
    public static partial void EntryLost(ILogger logger, string registry, string nodeId, string cause);
}
