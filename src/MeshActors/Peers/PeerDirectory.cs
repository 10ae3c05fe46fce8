using System.Collections.Concurrent;

namespace MeshActors.Peers;

/// <summary>The peers of one node, readable from any thread without asking the <see cref="PeerManagerActor"/>; only the manager changes it.</summary>
internal sealed class PeerDirectory
{
    private readonly ConcurrentDictionary<string, PeerLink> _links = new(StringComparer.Ordinal);
    private volatile IPeer[] _snapshot = [];
    private int _channels;

    /// <summary>Every known peer, connected or not (a snapshot: cheap to take, not updated afterwards).</summary>
    public IReadOnlyCollection<IPeer> Peers => _snapshot;

    /// <summary>Counters of all peers together, including peers that are gone.</summary>
    public PeerStats Totals { get; } = new();

    /// <summary>Handshaken channels open now (two to one peer for a moment when both nodes dialed).</summary>
    public int ChannelCount => Volatile.Read(ref _channels);

    /// <summary>The peer with this node id, connected or not.</summary>
    public bool TryGet(string nodeId, out IPeer peer)
    {
        var found = _links.TryGetValue(nodeId, out var link);
        peer = link!;
        return found;
    }

    /// <summary>A diagnostic snapshot of every peer.</summary>
    public IReadOnlyList<PeerInfo> Describe() => [.. _links.Values.Select(link => link.Describe()).OrderBy(info => info.Name, StringComparer.Ordinal)];

    /// <summary>
    /// Waits until every connected peer's writer has taken what is queued for it, for at most
    /// <paramref name="timeout"/>; true when all have. What is queued for a disconnected peer is not waited for.
    /// </summary>
    public async Task<bool> SendQueuedAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var sending = _links.Values.Where(link => link.IsConnected).Select(link => link.Queue.WhenEmptyAsync(() => link.IsConnected, cancellationToken));
        try
        {
            await Task.WhenAll(sending).WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    internal PeerLink? Find(string nodeId) => _links.GetValueOrDefault(nodeId);

    internal void Add(PeerLink link)
    {
        _links[link.NodeId] = link;
        _snapshot = [.. _links.Values];
    }

    internal void Remove(PeerLink link)
    {
        _links.TryRemove(link.NodeId, out _);
        _snapshot = [.. _links.Values];
    }

    internal void SetChannelCount(int count) => Volatile.Write(ref _channels, count);
}
