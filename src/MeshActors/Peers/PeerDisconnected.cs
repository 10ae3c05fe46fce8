namespace MeshActors.Peers;

/// <summary>Published on the EventStream when the last channel to a remote node is gone; messages to it are queued (up to the cap) until it is back.</summary>
/// <param name="NodeId">The remote node's id.</param>
/// <param name="Name">The remote node's name.</param>
/// <param name="Reason">Why the channel ended.</param>
public sealed record PeerDisconnected(string NodeId, string Name, string Reason);
