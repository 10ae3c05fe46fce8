using System.Runtime.CompilerServices;

namespace MeshActors.Peers;

/// <summary>Per-peer queues, heartbeats, liveness and reconnection settings.</summary>
public sealed record PeerOptions
{
    /// <summary>
    /// Bytes queued for one peer before <see cref="OverflowPolicy"/> applies (envelopes are counted by their data,
    /// attachment and a small constant). Default 64 MB: four of the largest default frames (16 MiB), tens of
    /// milliseconds of traffic at the 1-2 GB/s one channel carries, and a bound on what a peer that stopped reading can
    /// make this node hold. Range 64 KiB to 16 GiB.
    /// </summary>
    public long OutboundQueueCapBytes
    {
        get;
        init => field = InRange(value, 64 * 1024, 16L * 1024 * 1024 * 1024);
    } = 64L * 1024 * 1024;

    /// <summary>
    /// Envelopes queued for one peer above which <see cref="IPeer.SendAsync"/> under the
    /// <see cref="PeerOverflowPolicy.Wait"/> policy waits for the channel to catch up (the byte cap still applies below
    /// it); <see cref="IPeer.TrySend"/> and the <see cref="PeerOverflowPolicy.Fail"/> policy go on to the cap. Default
    /// 2048: enough to keep the channel busy, few enough that a sender outrunning its peer does not make the garbage
    /// collector's work grow. Counted in envelopes, not bytes, because that work is: each queued envelope outlives
    /// several collections, which copy it. Publishing 100 B messages flat out spent 16-19% of the time in collections
    /// with 8192 queued (and 10,000 waiting at the subscriber) and 8-10% with 2048 (and 2,000), for 1.1M against 1.35M
    /// msgs/s on average; large messages, few per MiB, need the deeper queue the cap allows.
    /// Range 16 to 16,777,216.
    /// </summary>
    public int BackpressureEnvelopes
    {
        get;
        init => field = (int)InRange(value, 16, 16 * 1024 * 1024);
    } = 2048;

    /// <summary>
    /// Bytes queued for one peer above which <see cref="IPeer.SendAsync"/> under the <see cref="PeerOverflowPolicy.Wait"/>
    /// policy waits, as <see cref="BackpressureEnvelopes"/> does for small messages: the bound that matters for large
    /// ones. Default 8 MB, several milliseconds of the fastest channel: 1 MB messages flat out ran at about the same
    /// rate with 8 MB as with 64 MB queued, at a tenth of the latency (12-17 ms against 75-157 ms), because queued
    /// messages outlive collections that copy them. An envelope above it still goes into an empty queue.
    /// Range 64 KiB to 16 GiB.
    /// </summary>
    public long BackpressureBytes
    {
        get;
        init => field = InRange(value, 64 * 1024, 16L * 1024 * 1024 * 1024);
    } = 8 * 1024 * 1024;

    /// <summary>
    /// What <see cref="IPeer.SendAsync"/> does when the queue is at its cap. Default <see cref="PeerOverflowPolicy.Wait"/>:
    /// backpressure slows the sender down to what the peer takes instead of losing messages. <see cref="IPeer.TrySend"/>
    /// never waits, whatever the policy.
    /// </summary>
    public PeerOverflowPolicy OverflowPolicy
    {
        get;
        init => field = Enum.IsDefined(value)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(OverflowPolicy), value, $"PeerOptions.OverflowPolicy must be {PeerOverflowPolicy.Wait} or {PeerOverflowPolicy.Fail}, not {value}.");
    } = PeerOverflowPolicy.Wait;

    /// <summary>
    /// A channel that has sent nothing for this long sends a <c>ping</c>. Default 1 s, the protocol's recommendation
    /// (docs/protocol.md 7.3): it keeps an idle peer's liveness check fed several times per <see cref="LivenessTimeout"/>
    /// for one small frame per second. Range 100 ms to 1 min.
    /// </summary>
    public TimeSpan HeartbeatInterval
    {
        get;
        init => field = InRange(value, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(1));
    } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A channel that has received nothing for this long is closed as hung (a crashed peer is noticed sooner, through
    /// the transport). Default 5 s, the protocol's recommendation: five heartbeats, so that a peer that is merely busy
    /// or briefly paused by its garbage collector is not cut off. Range 200 ms to 10 min.
    /// </summary>
    public TimeSpan LivenessTimeout
    {
        get;
        init => field = InRange(value, TimeSpan.FromMilliseconds(200), TimeSpan.FromMinutes(10));
    } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a new channel waits for the peer's <c>hello</c> before failing with <c>handshake_timeout</c>. Default
    /// 5 s, the protocol's recommendation: a hello follows the channel's opening at once, so only a broken or foreign
    /// peer takes that long. Range 100 ms to 10 min.
    /// </summary>
    public TimeSpan HandshakeTimeout
    {
        get;
        init => field = InRange(value, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10));
    } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// After this node ends its side of a channel (goodbye, duplicate, error), how long it keeps reading the peer's side
    /// before resetting the stream. Default 5 s, the protocol's recommendation (docs/protocol.md 7.4, 7.5): enough for
    /// the peer to answer the requests it has and end its side. Range 0 to 10 min.
    /// </summary>
    public TimeSpan GoodbyeGrace
    {
        get;
        init => field = InRange(value, TimeSpan.Zero, TimeSpan.FromMinutes(10));
    } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a unary call (docs/protocol.md 10) waits for the answer to a <c>req</c> without <c>timeout_ms</c>
    /// before it answers <c>err</c> <c>timeout</c> and cancels the handler. Default 5 s, the request timeout a mesh
    /// node's own requests get (<c>MessagingOptions.RequestTimeout</c>): a caller that named no deadline is treated like
    /// one that used the default. Range 1 ms to 10 min.
    /// </summary>
    public TimeSpan UnaryRequestTimeout
    {
        get;
        init => field = InRange(value, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(10));
    } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A channel's writer flushes when its queue is empty or once this many bytes are waiting in its buffer. Default
    /// 128 KB: environment measurements put the throughput plateau between 16 and 256 KB; larger batches only add
    /// latency behind them. Range 4 KiB to 64 MiB.
    /// </summary>
    public int FlushThresholdBytes
    {
        get;
        init => field = (int)InRange(value, 4 * 1024, 64 * 1024 * 1024);
    } = 128 * 1024;

    /// <summary>
    /// The delay before redialing a peer after its channel failed or a dial failed; it doubles with every failure in a
    /// row up to <see cref="ReconnectMaxBackoff"/>. Default 200 ms: a peer back from a restart is reached at once, and
    /// a burst of failures still costs only a few dials per second.
    /// </summary>
    public TimeSpan ReconnectMinBackoff
    {
        get;
        init => field = InRange(value, TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1));
    } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// The largest delay between redials (before jitter). Default 5 s: a peer that comes back after a long outage is
    /// reconnected within about 5 s, and a peer that is gone for good costs one refused connection every 5 s until
    /// discovery drops it.
    /// </summary>
    public TimeSpan ReconnectMaxBackoff
    {
        get;
        init => field = InRange(value, TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1));
    } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Jitter of the redial delays: each is multiplied by a random factor in [1, 1 + this]. Default 0.2, as Akka.NET's
    /// backoff: nodes that lost the same peer do not all redial it in the same millisecond. Range 0 to 1.
    /// </summary>
    public double ReconnectRandomFactor
    {
        get;
        init => field = value is >= 0 and <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(ReconnectRandomFactor), value, "Between 0 and 1.");
    } = 0.2;

    /// <summary>
    /// Of two mesh nodes the one with the smaller id dials; the other dials too when no channel from the first has
    /// arrived within this grace (it may not have seen the member yet). Default 2 s: one registry heartbeat
    /// (<see cref="Discovery.DiscoveryOptions.HeartbeatInterval"/>), the time the other node needs to see this one.
    /// Range 0 to 10 min.
    /// </summary>
    public TimeSpan DialGrace
    {
        get;
        init => field = InRange(value, TimeSpan.Zero, TimeSpan.FromMinutes(10));
    } = TimeSpan.FromSeconds(2);

    private static long InRange(long value, long min, long max, [CallerMemberName] string name = "")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, min, name);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, max, name);
        return value;
    }

    private static TimeSpan InRange(TimeSpan value, TimeSpan min, TimeSpan max, [CallerMemberName] string name = "")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, min, name);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, max, name);
        return value;
    }
}
