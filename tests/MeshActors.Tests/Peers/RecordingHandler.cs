using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Text;
using MeshActors.Actors;
using MeshActors.Peers;
using MeshActors.Protocol;

namespace MeshActors.Tests.Peers;

/// <summary>
/// The application side of a test node: checks the sequence numbers of every <c>pub</c> per sending node (data
/// <c>{"n":123}</c>), and tells a probe about everything else it hears (other envelopes, peers coming and going).
/// </summary>
internal sealed class RecordingHandler : IPeerEnvelopeHandler
{
    private readonly ConcurrentDictionary<string, Sequence> _sequences = new();

    private int _leavings;

    /// <summary>Receives <see cref="Received"/>, <see cref="Connected"/> and <see cref="Disconnected"/>; nobody when null.</summary>
    public IActorRef? Probe { get; set; }

    /// <summary>When true, every pub also goes to the probe.</summary>
    public bool ForwardPubs { get; set; }

    /// <summary>Whether this node still waits for the answer to a request it queued; every request by default.</summary>
    public Func<Envelope.Req, bool> Awaits { get; set; } = _ => true;

    /// <summary>The ids of the requests received, in order.</summary>
    public ConcurrentQueue<long> Requests { get; } = new();

    public Sequence From(string nodeId) => _sequences.GetOrAdd(nodeId, _ => new Sequence());

    public static Envelope.Pub Pub(long n, string topic = "seq", int padding = 0) =>
        new(topic, Encoding.UTF8.GetBytes(padding == 0 ? $"{{\"n\":{n}}}" : $"{{\"n\":{n},\"pad\":\"{new string('x', padding)}\"}}"));

    public void OnPeerConnected(IPeer peer) => Probe?.Tell(new Connected(peer), ActorRefs.NoSender);

    public bool IsAwaited(string nodeId, Envelope.Req req) => Awaits(req);

    public ValueTask OnEnvelope(IPeer peer, Envelope envelope)
    {
        if (envelope is Envelope.Req req)
        {
            Requests.Enqueue(req.Id);
        }

        if (envelope is Envelope.Pub { Topic: "seq" } pub)
        {
            From(peer.NodeId).Observe(ReadN(pub.Data.Span));
            if (!ForwardPubs)
            {
                return default;
            }
        }

        Probe?.Tell(new Received(peer, envelope), ActorRefs.NoSender);
        return default;
    }

    /// <summary>How many times a peer was reported leaving (its goodbye on the channel that carries it).</summary>
    public int Leavings => Volatile.Read(ref _leavings);

    public Task OnPeerLeavingAsync(IPeer peer, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _leavings);
        return Task.CompletedTask;
    }

    /// <summary>Called as a peer's channel goes, before the probe hears of it.</summary>
    public Action<IPeer>? Disconnecting { get; set; }

    public void OnPeerDisconnected(IPeer peer, Exception? reason)
    {
        Disconnecting?.Invoke(peer);
        Probe?.Tell(new Disconnected(peer, reason), ActorRefs.NoSender);
    }

    /// <summary>The sequence number of a pub made by <see cref="Pub"/>; -1 for anything else.</summary>
    public static long ReadN(ReadOnlySpan<byte> data) =>
        data.StartsWith("{\"n\":"u8) && Utf8Parser.TryParse(data[5..], out long n, out _) ? n : -1;

    public sealed record Received(IPeer Peer, Envelope Envelope);

    public sealed record Connected(IPeer Peer);

    public sealed record Disconnected(IPeer Peer, Exception? Reason);

    /// <summary>What one node's pubs looked like: how many, how many distinct, out of order, duplicated.</summary>
    public sealed class Sequence
    {
        private readonly Lock _gate = new();
        private bool[] _seen = new bool[1024];
        private long _next = -1;

        public long Count { get; private set; }

        public long First { get; private set; } = -1;

        public long Distinct { get; private set; }

        public long Duplicates { get; private set; }

        public long OutOfOrder { get; private set; }

        public long Invalid { get; private set; }

        public void Observe(long n)
        {
            lock (_gate)
            {
                Count++;
                if (n < 0)
                {
                    Invalid++;
                    return;
                }

                if (_next < 0)
                {
                    First = n;
                }
                else if (n != _next)
                {
                    OutOfOrder++;
                }

                _next = n + 1;
                if (n >= _seen.Length)
                {
                    Array.Resize(ref _seen, (int)Math.Max(n + 1, _seen.Length * 2L));
                }

                if (_seen[n])
                {
                    Duplicates++;
                }
                else
                {
                    _seen[n] = true;
                    Distinct++;
                }
            }
        }

        /// <summary>True when <paramref name="first"/> .. <paramref name="first"/> + <paramref name="count"/> - 1 each arrived exactly once, in order.</summary>
        public bool IsExactly(long count, long first = 0) =>
            Count == count && Distinct == count && First == first && Duplicates == 0 && OutOfOrder == 0 && Invalid == 0;

        public override string ToString() =>
            $"first={First} count={Count} distinct={Distinct} duplicates={Duplicates} outOfOrder={OutOfOrder} invalid={Invalid}";
    }
}
