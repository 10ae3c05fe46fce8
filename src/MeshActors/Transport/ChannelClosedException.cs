namespace MeshActors.Transport;

/// <summary>
/// A channel ended abruptly: the remote reset the stream, the connection was lost or failed its keep-alive ping,
/// the listener stopped, or the channel was aborted locally. Thrown by <see cref="MeshChannel.Input"/> reads and
/// <see cref="MeshChannel.Output"/> flushes; an orderly end is never an exception (the read completes instead).
/// </summary>
public sealed class ChannelClosedException(string message, Exception? innerException = null)
    : TransportException(message, innerException);
