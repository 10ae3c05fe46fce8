using System.Net;

namespace MeshActors.Peers;

/// <summary>Published on the EventStream when a remote node becomes reachable over a channel (again).</summary>
/// <param name="NodeId">The remote node's id.</param>
/// <param name="Name">The remote node's name.</param>
/// <param name="SpeaksMeshProtocol">False for a plain Marketrix peer.</param>
/// <param name="Outbound">True when this node dialed the channel.</param>
/// <param name="RemoteEndPoint">The remote end of the channel.</param>
public sealed record PeerConnected(string NodeId, string Name, bool SpeaksMeshProtocol, bool Outbound, EndPoint? RemoteEndPoint);
