using System.Net;

namespace MeshActors.Peers;

/// <summary>One peer as diagnostics (the CLI, logs, tests) see it at a moment.</summary>
/// <param name="NodeId">The remote node's id.</param>
/// <param name="Name">The remote node's name.</param>
/// <param name="IsConnected">Whether a channel carries the peer now.</param>
/// <param name="SpeaksMeshProtocol">False for a plain Marketrix peer.</param>
/// <param name="Outbound">Whether the channel in use (or last used) was dialed by this node.</param>
/// <param name="RemoteEndPoint">The remote end of that channel.</param>
/// <param name="QueuedBytes">Estimated bytes waiting in the peer's outbound queue.</param>
/// <param name="Stats">The peer's counters (live, not a copy).</param>
/// <param name="WaitingSenders">Sends waiting for room in the peer's outbound queue (backpressure).</param>
public sealed record PeerInfo(
    string NodeId, string Name, bool IsConnected, bool SpeaksMeshProtocol, bool Outbound, EndPoint? RemoteEndPoint, long QueuedBytes, PeerStats Stats,
    int WaitingSenders);
