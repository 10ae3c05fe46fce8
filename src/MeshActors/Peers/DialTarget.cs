using System.Net;
using MeshActors.Actors;

namespace MeshActors.Peers;

/// <summary>An address the peer manager keeps a channel to: a member from discovery, or an explicit <c>ConnectPeer</c> (manager only).</summary>
internal sealed class DialTarget(string key, DnsEndPoint address)
{
    /// <summary>How the key of an explicit target starts: "address:host:port".</summary>
    public const string ExplicitPrefix = "address:";

    /// <summary>The member's node id, or "address:host:port" for an explicit target.</summary>
    public string Key { get; } = key;

    /// <summary>An explicit <c>ConnectPeer</c> target, wanted for its address whichever node answers there; not a member.</summary>
    public bool IsExplicit => Key.StartsWith(ExplicitPrefix, StringComparison.Ordinal);

    /// <summary>Where to dial.</summary>
    public DnsEndPoint Address { get; set; } = address;

    /// <summary>The node expected there: the member's id, or the id learned at the first handshake; null until known.</summary>
    public string? NodeId { get; set; }

    /// <summary>A member registered with only the Marketrix fields: dialed without offering a protocol version.</summary>
    public bool Plain { get; set; }

    /// <summary>This node dials at once (it has the smaller id, the member is plain, or the target is explicit); otherwise it waits for the peer's dial for <see cref="PeerOptions.DialGrace"/>.</summary>
    public bool DialsFirst { get; set; }

    /// <summary>The connection actor dialing it now, if any.</summary>
    public IActorRef? Connection { get; set; }

    /// <summary>Dials in a row that did not end in a channel carrying the peer.</summary>
    public int Failures { get; set; }

    /// <summary>Whether it was ever dialed (the first dial waits for no backoff).</summary>
    public bool Dialed { get; set; }

    /// <summary>A member whose address led to another node: not dialed again until its registration changes.</summary>
    public bool Stale { get; set; }
}
