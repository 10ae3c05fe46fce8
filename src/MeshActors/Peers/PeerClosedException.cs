namespace MeshActors.Peers;

/// <summary>The peer ended the channel, or refused it with an <c>err</c> frame, before its handshake was done.</summary>
internal sealed class PeerClosedException(string message) : Exception(message);
