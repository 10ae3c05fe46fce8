using System.Net;
using Microsoft.Extensions.Logging;

namespace MeshActors.Peers;

/// <summary>Every line the peer layer logs: one per state change or bad input, never one per retry.</summary>
internal static partial class PeerLog
{
    [LoggerMessage(4001, LogLevel.Information, "Connected to '{Name}' ({NodeId}) over the {Channel}")]
    public static partial void Connected(ILogger logger, string name, string nodeId, string channel);

    [LoggerMessage(4002, LogLevel.Information, "Disconnected from '{Name}' ({NodeId}): {Reason}")]
    public static partial void Disconnected(ILogger logger, string name, string nodeId, string reason);

    [LoggerMessage(4003, LogLevel.Warning, "Rejected a frame on the {Channel}: {Code}: {Message} ({Outcome})")]
    public static partial void BadFrame(ILogger logger, string channel, string code, string message, string outcome);

    [LoggerMessage(4004, LogLevel.Information, "Two channels to {NodeId}: keeping the {Kept}, retiring the {Retired} (the channel dialed by the smaller node id stays)")]
    public static partial void DuplicateChannel(ILogger logger, string nodeId, string kept, string retired);

    [LoggerMessage(4005, LogLevel.Warning, "Nothing received on the {Channel} for {TimeoutMs} ms; closing it as hung")]
    public static partial void Hung(ILogger logger, string channel, double timeoutMs);

    [LoggerMessage(4006, LogLevel.Debug, "Dialing {Address} failed ({Failures} in a row), next try in {DelayMs:0} ms: {Reason}")]
    public static partial void DialRetry(ILogger logger, string address, int failures, double delayMs, string reason);

    [LoggerMessage(4007, LogLevel.Warning, "Cannot reach {Address}: {Reason}; retrying with backoff")]
    public static partial void Unreachable(ILogger logger, string address, string reason);

    [LoggerMessage(4008, LogLevel.Error, "The envelope handler failed on a '{Type}' envelope from {NodeId}")]
    public static partial void HandlerFailed(ILogger logger, string type, string nodeId, Exception exception);

    [LoggerMessage(4009, LogLevel.Warning, "Dropped a '{Type}' envelope to {NodeId}: {Reason}")]
    public static partial void Unsendable(ILogger logger, string type, string nodeId, string reason);

    [LoggerMessage(4010, LogLevel.Warning, "The peer reported an error on the {Channel}: {Code}: {Message}")]
    public static partial void PeerReportedError(ILogger logger, string channel, string code, string message);

    [LoggerMessage(4011, LogLevel.Debug, "The {Channel} ended: {Reason}")]
    public static partial void ChannelEnded(ILogger logger, string channel, string reason);

    [LoggerMessage(4012, LogLevel.Information, "Node {NodeId} is gone ({Reason}); {Dropped} queued envelope(s) dropped")]
    public static partial void PeerRemoved(ILogger logger, string nodeId, string reason, long dropped);

    [LoggerMessage(4013, LogLevel.Warning, "Dialed member {MemberId} at {Address} but reached node {NodeId}; the registration is stale")]
    public static partial void StaleAddress(ILogger logger, string memberId, string address, string nodeId);

    [LoggerMessage(4018, LogLevel.Information, "Dialed {Address} and reached node {NodeId}, not {ReplacedId}: the node there restarted; it is kept dialed")]
    public static partial void TargetNodeChanged(ILogger logger, string address, string replacedId, string nodeId);

    [LoggerMessage(4019, LogLevel.Information, "Node {NodeId} restarted: the {New} carries it now; its previous run's channels are reset, what was in flight with that run ends, and {Dropped} envelopes queued for it are dropped")]
    public static partial void PeerRestarted(ILogger logger, string nodeId, string @new, long dropped);

    [LoggerMessage(4020, LogLevel.Information, "Node {NodeId} dialed the {Channel} from run {Run}, which it has restarted from since: the channel is reset")]
    public static partial void EndedRun(ILogger logger, string nodeId, string run, string channel);

    [LoggerMessage(4014, LogLevel.Error, "The mesh listener could not start")]
    public static partial void ListenerFailed(ILogger logger, Exception exception);

    [LoggerMessage(4015, LogLevel.Warning, "The channel at {Address} leads back to this node; not dialing it again")]
    public static partial void SelfConnection(ILogger logger, string address);

    [LoggerMessage(4016, LogLevel.Error, "The {Channel} failed unexpectedly; aborting it")]
    public static partial void ChannelBug(ILogger logger, string channel, Exception exception);

    [LoggerMessage(4017, LogLevel.Information, "Stopping the peer layer: saying goodbye on {Channels} channel(s)")]
    public static partial void Stopping(ILogger logger, int channels);

    public static string Format(EndPoint? endPoint) => endPoint switch
    {
        null => "?",
        DnsEndPoint dns => dns.Host.Contains(':') ? $"[{dns.Host}]:{dns.Port}" : $"{dns.Host}:{dns.Port}",
        _ => endPoint.ToString() ?? "?",
    };
}
