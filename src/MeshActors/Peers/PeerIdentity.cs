using System.Net;
using MeshActors.Protocol;

namespace MeshActors.Peers;

/// <summary>Who is at the other end of a channel, as its handshake (or, on a plain channel, its headers) told.</summary>
/// <param name="NodeId">The peer's node id from its hello; null on a plain channel, where the peer manager finds or makes one.</param>
/// <param name="Name">The peer's node (service) name; null when a plain listener did not say.</param>
/// <param name="SpeaksMeshProtocol">False on a plain (Marketrix) channel.</param>
/// <param name="AcceptsAttachments">True when the peer's hello announced the <c>bin</c> capability.</param>
/// <param name="Outbound">True when this node dialed the channel.</param>
/// <param name="SessionId">The channel's <c>x-session-id</c>: chosen by whoever dialed; breaks ties between channels dialed by the same node.</param>
/// <param name="RemoteEndPoint">The dialed address, or the remote socket of an inbound channel.</param>
/// <param name="MaxFrameSize">The largest frame payload the peer accepts: its hello's <c>max_frame</c>, the protocol's default without a hello.</param>
/// <param name="Incarnation">The run of the peer its hello named (<c>incarnation</c>); null when it did not say.</param>
internal sealed record PeerIdentity(
    string? NodeId,
    string? Name,
    bool SpeaksMeshProtocol,
    bool AcceptsAttachments,
    bool Outbound,
    string? SessionId,
    EndPoint? RemoteEndPoint,
    int MaxFrameSize = ProtocolOptions.DefaultMaxFrameSize,
    string? Incarnation = null)
{
    /// <summary>True when both hellos named their run, and not the same one: the peer restarted between the two channels.</summary>
    public bool IsLaterRunThan(PeerIdentity other) => Incarnation is { } mine && other.Incarnation is { } theirs && mine != theirs;
}
