using System.Net;

namespace MeshActors.Transport;

/// <summary>A channel could not be opened: the remote did not accept the connection, the handshake failed, or it timed out.</summary>
public sealed class ChannelConnectException(EndPoint remote, string reason, Exception? innerException = null)
    : TransportException($"Could not open a channel to {ChannelHeaders.Format(remote)}: {reason}", innerException)
{
    /// <summary>The address that was dialed.</summary>
    public EndPoint Remote { get; } = remote;
}
