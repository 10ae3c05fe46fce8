using Microsoft.Extensions.Logging;

namespace MeshActors;

/// <summary>The log lines of a node's life: started, stopping, stopped.</summary>
internal static partial class MeshLog
{
    [LoggerMessage(6001, LogLevel.Information, "Mesh node {Name} ({NodeId}) started on {Address}, registry {Registry}")]
    public static partial void Started(ILogger logger, string name, string nodeId, string address, string registry);

    [LoggerMessage(6002, LogLevel.Information, "Mesh node {Name} ({NodeId}) stopping")]
    public static partial void Stopping(ILogger logger, string name, string nodeId);

    [LoggerMessage(6003, LogLevel.Information, "Mesh node {Name} ({NodeId}) stopped")]
    public static partial void Stopped(ILogger logger, string name, string nodeId);

    [LoggerMessage(6004, LogLevel.Warning, "While stopping, could not {Step}: {Reason}")]
    public static partial void StopStepFailed(ILogger logger, string step, string reason);

    [LoggerMessage(6005, LogLevel.Warning, "Mesh node {Name} ({NodeId}): the graceful stop was cancelled; stopping its actors and closing its registry now")]
    public static partial void StopCancelled(ILogger logger, string name, string nodeId);
}
