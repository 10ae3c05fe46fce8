using System.Net;
using Microsoft.Extensions.Logging;

namespace MeshActors.Transport;

/// <summary>Every line the transport logs, one per state change or bad input.</summary>
internal static partial class TransportLog
{
    [LoggerMessage(3001, LogLevel.Information, "Mesh listener for '{ServiceName}' listening on {Scheme}://{EndPoint}")]
    public static partial void ListenerStarted(ILogger logger, string serviceName, string scheme, IPEndPoint endPoint);

    [LoggerMessage(3002, LogLevel.Information, "Mesh listener on {EndPoint} stopping; aborting {OpenChannels} open channel(s), ending {UnaryCalls} unary call(s) once answered")]
    public static partial void ListenerStopping(ILogger logger, IPEndPoint? endPoint, int openChannels, int unaryCalls);

    [LoggerMessage(3003, LogLevel.Debug, "Accepted {Channel} on {Route}")]
    public static partial void ChannelAccepted(ILogger logger, MeshChannel channel, string route);

    [LoggerMessage(3004, LogLevel.Information, "Rejected {Method} {Path} from {Remote} with {StatusCode}: {Reason}")]
    public static partial void ChannelRejected(ILogger logger, string method, string path, string remote, int statusCode, string reason);

    [LoggerMessage(3005, LogLevel.Information, "Rejected a connection from {Remote}: it did not start with the HTTP/2 preface (an HTTP/1.x client?); Kestrel answers 400 over cleartext, and closes it over TLS")]
    public static partial void NotHttp2(ILogger logger, string remote);

    [LoggerMessage(3006, LogLevel.Error, "The handler of {Channel} failed; resetting the stream")]
    public static partial void HandlerFailed(ILogger logger, MeshChannel channel, Exception exception);

    [LoggerMessage(3007, LogLevel.Debug, "Opened {Channel}")]
    public static partial void ChannelOpened(ILogger logger, MeshChannel channel);

    [LoggerMessage(3008, LogLevel.Debug, "{Failure}")]
    public static partial void DialFailed(ILogger logger, string failure);

    [LoggerMessage(3009, LogLevel.Information, "Aborted {Channel}: {Reason}")]
    public static partial void ChannelAborted(ILogger logger, MeshChannel channel, string reason);

    [LoggerMessage(3010, LogLevel.Information, "Lost {Channel}: {Reason}")]
    public static partial void ChannelLost(ILogger logger, MeshChannel channel, string reason);

    [LoggerMessage(3011, LogLevel.Debug, "Closed {Channel}")]
    public static partial void ChannelClosed(ILogger logger, MeshChannel channel);

    [LoggerMessage(3012, LogLevel.Debug, "'{ServiceName}' at {Remote} went away before its channel was accepted: {Reason}")]
    public static partial void CallerGone(ILogger logger, string serviceName, string remote, string reason);
}
