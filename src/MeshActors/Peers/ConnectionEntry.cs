using MeshActors.Actors;

namespace MeshActors.Peers;

/// <summary>The peer manager's record of one connection actor and its channel (manager only).</summary>
internal sealed class ConnectionEntry(IActorRef actor, DialTarget? target)
{
    /// <summary>The connection actor.</summary>
    public IActorRef Actor { get; } = actor;

    /// <summary>What it dials; null for a channel a remote node opened.</summary>
    public DialTarget? Target { get; } = target;

    /// <summary>Who is at the other end, once the handshake is done.</summary>
    public PeerIdentity? Identity { get; set; }

    /// <summary>The peer the channel belongs to, once the handshake is done.</summary>
    public PeerLink? Link { get; set; }

    /// <summary>True once the channel carried its peer (its writer drained the peer's queue).</summary>
    public bool Carried { get; set; }

    /// <summary>True once the channel was told to say goodbye (a duplicate, or the node stopping).</summary>
    public bool Retired { get; set; }

    /// <inheritdoc />
    public override string ToString() => Identity is { } identity
        ? $"channel {(identity.Outbound ? "dialed by this node to" : "dialed by")} {PeerLog.Format(identity.RemoteEndPoint)} (session {identity.SessionId ?? "-"})"
        : $"channel {Actor.Path.Name}";
}
