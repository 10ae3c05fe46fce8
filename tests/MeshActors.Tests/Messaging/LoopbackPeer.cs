using System.Threading.Channels;
using MeshActors.Peers;
using MeshActors.Protocol;

namespace MeshActors.Tests.Messaging;

/// <summary>
/// The application-side double of a channel between two in-process nodes: what one node sends through its
/// <see cref="IPeer"/> reaches the other node's <see cref="IPeerEnvelopeHandler"/> on a read loop of its own, in order.
/// </summary>
/// <remarks>Used only until the real peer layer is in the branch; the multi-node specs run over real HTTP/2.</remarks>
internal sealed class LoopbackPeer : IPeer
{
    private readonly Channel<Envelope> _queue = Channel.CreateUnbounded<Envelope>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IPeerEnvelopeHandler _remote;
    private volatile bool _connected = true;

    private LoopbackPeer(MessagingNode remote, bool acceptsAttachments)
    {
        NodeId = remote.Id;
        Name = remote.Name;
        AcceptsAttachments = acceptsAttachments;
        _remote = remote.Messaging;
    }

    public string NodeId { get; }

    public string Name { get; }

    public bool IsConnected => _connected;

    public bool SpeaksMeshProtocol => true;

    public bool AcceptsAttachments { get; }

    /// <summary>The other direction: the sender as the receiving node sees it.</summary>
    public LoopbackPeer Reverse { get; private set; } = null!;

    /// <summary>Every envelope sent through this peer, in order, for specs that look at the wire.</summary>
    public List<Envelope> Sent { get; } = [];

    /// <summary>Connects two nodes both ways and tells each handler; returns the peer <paramref name="a"/> sends to <paramref name="b"/> through.</summary>
    public static LoopbackPeer Connect(MessagingNode a, MessagingNode b, bool acceptsAttachments = true)
    {
        var aToB = new LoopbackPeer(b, acceptsAttachments);
        var bToA = new LoopbackPeer(a, acceptsAttachments);
        aToB.Reverse = bToA;
        bToA.Reverse = aToB;
        aToB.Start();
        bToA.Start();
        a.Messaging.OnPeerConnected(aToB);
        b.Messaging.OnPeerConnected(bToA);
        return aToB;
    }

    public bool TrySend(Envelope envelope)
    {
        if (!_connected)
            return false;
        lock (Sent)
            Sent.Add(envelope);
        return _queue.Writer.TryWrite(envelope);
    }

    public ValueTask SendAsync(Envelope envelope, CancellationToken cancellationToken = default) =>
        TrySend(envelope) ? default : ValueTask.FromException(new PeerUnavailableException(NodeId, "the loopback channel is closed"));

    /// <summary>Cuts the channel both ways, as a crash would: nothing more is delivered, and both handlers hear of it.</summary>
    public void Disconnect(MessagingNode a, MessagingNode b)
    {
        _connected = false;
        Reverse._connected = false;
        _queue.Writer.TryComplete();
        Reverse._queue.Writer.TryComplete();
        a.Messaging.OnPeerDisconnected(this, new IOException("loopback cut"));
        b.Messaging.OnPeerDisconnected(Reverse, new IOException("loopback cut"));
    }

    public IEnumerable<T> SentOf<T>()
    {
        lock (Sent)
            return Sent.OfType<T>().ToArray();
    }

    private void Start() => _ = Task.Run(async () =>
    {
        await foreach (var envelope in _queue.Reader.ReadAllAsync())
        {
            if (_connected)
                await _remote.OnEnvelope(Reverse, envelope);
        }
    });
}
