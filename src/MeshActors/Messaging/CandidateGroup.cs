using System.Collections;

namespace MeshActors.Messaging;

/// <summary>The nodes among which a <see cref="ILoadBalancer"/> picks: the providers of a service, or the nodes of one group listening to a topic.</summary>
/// <remarks>Never empty; ordered by node id, so that rotations are stable while membership is.</remarks>
public sealed class CandidateGroup : IReadOnlyList<RouteCandidate>
{
    private readonly RouteCandidate[] _candidates;
    private long _ticket;
    private CandidateGroup? _accepting; // AcceptingAttachments, kept so that its rotation goes on from call to call

    internal CandidateGroup(string address, RouteCandidate[] candidates)
    {
        Address = address;
        _candidates = candidates;
        _ticket = Random.Shared.Next(); // like easymesh, rotations start at a random member, so that publishers spread from the first message
    }

    /// <summary>The topic or service addressed.</summary>
    public string Address { get; }

    /// <inheritdoc />
    public int Count => _candidates.Length;

    /// <inheritdoc />
    public RouteCandidate this[int index] => _candidates[index];

    /// <summary>A number that grows by one with every call, from any thread: the cursor of rotating strategies.</summary>
    public long NextTicket() => Interlocked.Increment(ref _ticket);

    /// <summary>Whether the group holds exactly <paramref name="candidates"/>, in this order.</summary>
    internal bool HasMembers(RouteCandidate[] candidates)
    {
        if (candidates.Length != _candidates.Length)
            return false;
        for (var i = 0; i < candidates.Length; i++)
        {
            if (!ReferenceEquals(candidates[i], _candidates[i]))
                return false;
        }

        return true;
    }

    /// <summary>The local candidate's index, or -1 when this node is not among them.</summary>
    public int IndexOfLocal()
    {
        for (var i = 0; i < _candidates.Length; i++)
        {
            if (_candidates[i].IsLocal)
                return i;
        }

        return -1;
    }

    /// <summary>The same group without <paramref name="nodeId"/>; null when nobody is left.</summary>
    internal CandidateGroup? Without(string nodeId)
    {
        var rest = Array.FindAll(_candidates, c => c.NodeId != nodeId);
        return rest.Length == 0 ? null : new CandidateGroup(Address, rest);
    }

    /// <summary>The candidates that can take a binary attachment (this node, or a peer with the <c>bin</c> capability); this group itself when all can, so that its balancing goes on; null when none can.</summary>
    internal CandidateGroup? AcceptingAttachments()
    {
        if (Volatile.Read(ref _accepting) is { } known)
            return known.Count == 0 ? null : known;
        var accepting = Array.FindAll(_candidates, static c => c.Peer is not { AcceptsAttachments: false });
        // A race computes it twice, and one answer is kept: at worst a request or two rotate on the other.
        known = accepting.Length == _candidates.Length ? this : new CandidateGroup(Address, accepting);
        Volatile.Write(ref _accepting, known);
        return known.Count == 0 ? null : known;
    }

    /// <inheritdoc />
    public IEnumerator<RouteCandidate> GetEnumerator() => ((IEnumerable<RouteCandidate>)_candidates).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
