namespace MeshActors.Transport;

/// <summary>Base of every failure the HTTP/2 transport reports: a channel that could not be opened or that ended abruptly.</summary>
public abstract class TransportException(string message, Exception? innerException = null)
    : IOException(message, innerException);
