using Microsoft.Extensions.Logging;

namespace MeshActors.Replication;

/// <summary>Every log line of replicated dictionaries: one per open, bad input, failed handler or failed send, and one per burst of pulls coalesced.</summary>
internal static partial class ReplicationLog
{
    [LoggerMessage(8001, LogLevel.Debug, "Dictionary {Dictionary} opened as replica {Replica} with the state of {Replicas} other replicas in {Milliseconds} ms")]
    public static partial void Opened(ILogger logger, string dictionary, string replica, int replicas, long milliseconds);

    [LoggerMessage(8002, LogLevel.Warning, "Dictionary {Dictionary} opened without the state of nodes {Nodes} (not answered within {Milliseconds} ms, or gone before answering); it merges when it arrives")]
    public static partial void OpenedIncomplete(ILogger logger, string dictionary, string nodes, long milliseconds);

    [LoggerMessage(8003, LogLevel.Warning, "Dictionary {Dictionary} refused a message from node {NodeId} ({NodeName}): {Reason}")]
    public static partial void BadMessage(ILogger logger, string dictionary, string nodeId, string nodeName, string reason);

    [LoggerMessage(8004, LogLevel.Warning, "Dictionary {Dictionary} refused key {Key} from node {NodeId}: its value is not a {Type}: {Reason}")]
    public static partial void BadValue(ILogger logger, string dictionary, string key, string nodeId, string type, string reason);

    [LoggerMessage(8005, LogLevel.Warning, "A {What} handler of dictionary {Dictionary} threw on key {Key}")]
    public static partial void HandlerFailed(ILogger logger, string what, string dictionary, string key, Exception exception);

    [LoggerMessage(8006, LogLevel.Warning, "The resolver of dictionary {Dictionary} threw on key {Key}; the winner's value is kept")]
    public static partial void ResolverFailed(ILogger logger, string dictionary, string key, Exception exception);

    [LoggerMessage(8007, LogLevel.Debug, "Dictionary {Dictionary}: concurrent writes to key {Key} by nodes {Nodes}; node {Winner} wins")]
    public static partial void Conflict(ILogger logger, string dictionary, string key, string nodes, string winner);

    [LoggerMessage(8008, LogLevel.Debug, "Dictionary {Dictionary} sends its {Entries} keys to node {NodeId} ({Reason})")]
    public static partial void SendingState(ILogger logger, string dictionary, int entries, string nodeId, string reason);

    [LoggerMessage(8009, LogLevel.Warning, "Dictionary {Dictionary} could not send a {Kind} to node {NodeId}: {Reason}")]
    public static partial void SendFailed(ILogger logger, string dictionary, string kind, string nodeId, string reason);

    [LoggerMessage(8010, LogLevel.Warning, "Dictionary {Dictionary} refused a version of key {Key} from node {NodeId}: {Reason}")]
    public static partial void BadVersion(ILogger logger, string dictionary, string key, string nodeId, string reason);

    [LoggerMessage(8011, LogLevel.Warning, "Dictionary {Dictionary} is sending its state to node {NodeId}, which keeps pulling: one more state after it answers every pull that arrives meanwhile (counted in PullsCoalesced, logged once while they go on)")]
    public static partial void PullsCoalesced(ILogger logger, string dictionary, string nodeId);
}
