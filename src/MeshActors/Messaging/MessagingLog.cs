using Microsoft.Extensions.Logging;

namespace MeshActors.Messaging;

/// <summary>Every log line of the messaging layer: one per state change or bad input.</summary>
internal static partial class MessagingLog
{
    [LoggerMessage(5001, LogLevel.Debug, "Node {NodeId} ({Name}) announced interest version {Version}: {Topics} topics, {Services} services")]
    public static partial void PeerInterest(ILogger logger, string nodeId, string name, long version, int topics, int services);

    [LoggerMessage(5002, LogLevel.Debug, "Announcing {Topics} topics and {Services} services to {Peers} peers")]
    public static partial void Announcing(ILogger logger, int topics, int services, int peers);

    [LoggerMessage(5003, LogLevel.Warning, "Could not announce this node's interest to node {NodeId}: {Reason}; it will not route to this node until the next change")]
    public static partial void InterestNotSent(ILogger logger, string nodeId, string reason);

    [LoggerMessage(5004, LogLevel.Warning, "Refused a subscription or publish from {Sender}: {Reason}")]
    public static partial void RefusedTopic(ILogger logger, string sender, string reason);

    [LoggerMessage(5013, LogLevel.Warning, "Refused a publish from {Sender} on topic {Topic}: {Reason}")]
    public static partial void RefusedPublish(ILogger logger, string sender, string topic, string reason);

    [LoggerMessage(5005, LogLevel.Warning, "A subscriber of topic {Topic} failed on a message from {SenderName} ({SenderId})")]
    public static partial void SubscriberFailed(ILogger logger, string topic, string senderName, string senderId, Exception exception);

    [LoggerMessage(5006, LogLevel.Debug, "Service {Service} failed a request from node {SenderId}: {ErrorCode} {ExceptionType}: {Reason}")]
    public static partial void HandlerFailed(ILogger logger, string service, string senderId, string errorCode, string exceptionType, string reason);

    [LoggerMessage(5007, LogLevel.Debug, "Node {NodeId} asked for service {Service}, which this node does not host")]
    public static partial void NoService(ILogger logger, string nodeId, string service);

    [LoggerMessage(5008, LogLevel.Warning, "Node {NodeId} sent request {RequestId} while a request with that id is still in flight; answered bad_envelope")]
    public static partial void DuplicateRequestId(ILogger logger, string nodeId, long requestId);

    [LoggerMessage(5009, LogLevel.Warning, "Node {NodeId} does not accept binary attachments: a {What} with a {Bytes}-byte attachment was not sent to it (logged once per topic or service; each is counted in dropped_attachments)")]
    public static partial void AttachmentRefused(ILogger logger, string nodeId, string what, int bytes);

    [LoggerMessage(5010, LogLevel.Warning, "Node {NodeId} reported an error: {ErrorCode}: {Reason}")]
    public static partial void PeerError(ILogger logger, string nodeId, string errorCode, string reason);

    [LoggerMessage(5011, LogLevel.Information, "Request {RequestId} to service {Service} failed on node {NodeId} ({Reason}); retrying it on another provider")]
    public static partial void Retrying(ILogger logger, long requestId, string service, string nodeId, string reason);

    [LoggerMessage(5012, LogLevel.Warning, "The answer to request {RequestId} from node {NodeId} could not be queued: its channel is full or gone")]
    public static partial void AnswerDropped(ILogger logger, long requestId, string nodeId);
}
