namespace MeshActors.Messaging;

/// <summary>The built-in <see cref="ILoadBalancer"/> strategies.</summary>
public static class LoadBalancers
{
    /// <summary>What <see cref="ILoadBalancer.Select"/> returns to deliver a topic message to every node of the group.</summary>
    public const int All = -1;

    /// <summary>Each node in turn (the default, as easymesh).</summary>
    public static ILoadBalancer RoundRobin { get; } = new RoundRobinBalancer();

    /// <summary>A node chosen at random each time.</summary>
    public static ILoadBalancer Random { get; } = new RandomBalancer();

    /// <summary>The node with the fewest of this node's requests unanswered, then the fewest bytes queued to it; ties rotate.</summary>
    public static ILoadBalancer LeastOutstanding { get; } = new LeastOutstandingBalancer();

    /// <summary>This node when it is a candidate, otherwise each node in turn.</summary>
    public static ILoadBalancer LocalFirst { get; } = new LocalFirstBalancer();

    /// <summary>Every node of the group (topics only: a request goes to one provider).</summary>
    public static ILoadBalancer Broadcast { get; } = new BroadcastBalancer();

    /// <summary>The built-in strategies by their names here, as a host's configuration gives them (case-insensitive).</summary>
    internal static IReadOnlyDictionary<string, ILoadBalancer> ByName { get; } = new Dictionary<string, ILoadBalancer>(StringComparer.OrdinalIgnoreCase)
    {
        [nameof(RoundRobin)] = RoundRobin,
        [nameof(Random)] = Random,
        [nameof(LeastOutstanding)] = LeastOutstanding,
        [nameof(LocalFirst)] = LocalFirst,
        [nameof(Broadcast)] = Broadcast,
    };

    private sealed class RoundRobinBalancer : ILoadBalancer
    {
        public int Select(CandidateGroup candidates) => (int)((ulong)candidates.NextTicket() % (ulong)candidates.Count);

        public override string ToString() => "round-robin";
    }

    private sealed class RandomBalancer : ILoadBalancer
    {
        public int Select(CandidateGroup candidates) => System.Random.Shared.Next(candidates.Count);

        public override string ToString() => "random";
    }

    private sealed class LeastOutstandingBalancer : ILoadBalancer
    {
        public int Select(CandidateGroup candidates)
        {
            var best = 0;
            var ties = 1;
            for (var i = 1; i < candidates.Count; i++)
            {
                var order = Compare(candidates[i], candidates[best]);
                if (order < 0)
                    (best, ties) = (i, 1);
                else if (order == 0)
                    ties++;
            }

            if (ties == 1)
                return best;

            // The least loaded take turns, each as often as the others: not the one after a busy node in a rotating scan.
            // The counters move meanwhile (other callers, the writer), so fewer may tie on this second look.
            var turn = (int)((ulong)candidates.NextTicket() % (ulong)ties);
            for (var i = best; i < candidates.Count; i++)
            {
                if (Compare(candidates[i], candidates[best]) == 0 && turn-- == 0)
                    return i;
            }

            return best;
        }

        // A member as full as can be (the publishing node's own, a subscriber of its at its backlog limit) would make the
        // publisher wait: it comes last whatever the requests this node has in flight to the others.
        private static int Compare(RouteCandidate a, RouteCandidate b)
        {
            var (fullA, fullB) = (a.QueuedBytes >= SubscriberBacklog.Full, b.QueuedBytes >= SubscriberBacklog.Full);
            if (fullA != fullB)
                return fullA ? 1 : -1;
            return a.OutstandingRequests != b.OutstandingRequests ? a.OutstandingRequests.CompareTo(b.OutstandingRequests) : a.QueuedBytes.CompareTo(b.QueuedBytes);
        }

        public override string ToString() => "least-outstanding";
    }

    private sealed class LocalFirstBalancer : ILoadBalancer
    {
        public int Select(CandidateGroup candidates) => candidates.IndexOfLocal() is >= 0 and var local ? local : RoundRobin.Select(candidates);

        public override string ToString() => "local-first";
    }

    private sealed class BroadcastBalancer : ILoadBalancer
    {
        public int Select(CandidateGroup candidates) => All;

        public override string ToString() => "broadcast";
    }
}
