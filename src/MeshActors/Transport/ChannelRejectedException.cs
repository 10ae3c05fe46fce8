using System.Net;

namespace MeshActors.Transport;

/// <summary>The listener answered the channel request with a status other than 200.</summary>
public sealed class ChannelRejectedException(EndPoint remote, int statusCode, string reason)
    : TransportException($"{ChannelHeaders.Format(remote)} rejected the channel with {statusCode}: {reason}")
{
    /// <summary>The address that was dialed.</summary>
    public EndPoint Remote { get; } = remote;

    /// <summary>The HTTP status the listener answered with, e.g. 400, 404 or 405.</summary>
    public int StatusCode { get; } = statusCode;

    /// <summary>The first line of the listener's response body, which says why; empty when it sent none.</summary>
    public string Reason { get; } = reason;
}
