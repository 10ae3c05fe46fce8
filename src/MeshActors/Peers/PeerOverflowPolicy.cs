namespace MeshActors.Peers;

/// <summary>What a send does when the peer's outbound queue is at its byte cap (<see cref="PeerOptions.OutboundQueueCapBytes"/>).</summary>
public enum PeerOverflowPolicy
{
    /// <summary>The send waits until the peer's writer has made room (or the send is cancelled).</summary>
    Wait,

    /// <summary>The send fails at once with <see cref="PeerQueueFullException"/>.</summary>
    Fail,
}
