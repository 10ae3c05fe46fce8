namespace MeshActors.Peers;

/// <summary>Traffic and trouble counters of one peer, or of all peers together; safe to read from any thread.</summary>
/// <remarks>Channels add to these once per read or write batch, not once per frame.</remarks>
public sealed class PeerStats
{
    private readonly PeerStats? _totals;
    private long _framesReceived, _bytesReceived, _framesSent, _bytesSent, _dropped, _reconnects, _badFrames, _livenessTimeouts;

    internal PeerStats(PeerStats? totals = null) => _totals = totals;

    /// <summary>Frames read from the peer (attachments count as frames), handshake excluded.</summary>
    public long FramesReceived => Volatile.Read(ref _framesReceived);

    /// <summary>Bytes of those frames, length prefixes included.</summary>
    public long BytesReceived => Volatile.Read(ref _bytesReceived);

    /// <summary>Frames written to the peer, control frames (ping, pong, err, bye) and attachment frames included.</summary>
    public long FramesSent => Volatile.Read(ref _framesSent);

    /// <summary>Bytes handed to the transport for the peer, length prefixes included.</summary>
    public long BytesSent => Volatile.Read(ref _bytesSent);

    /// <summary>Envelopes that were not sent: refused at the queue's cap, left queued when the peer left, or unsendable (above the peer's frame limit, typed to a plain peer).</summary>
    public long Dropped => Volatile.Read(ref _dropped);

    /// <summary>Times the peer was connected again after having been disconnected.</summary>
    public long Reconnects => Volatile.Read(ref _reconnects);

    /// <summary>Frames from the peer that were rejected (docs/protocol.md 9.1), whether the channel went on or closed.</summary>
    public long BadFrames => Volatile.Read(ref _badFrames);

    /// <summary>Channels closed because nothing arrived within <see cref="PeerOptions.LivenessTimeout"/>.</summary>
    public long LivenessTimeouts => Volatile.Read(ref _livenessTimeouts);

    /// <inheritdoc />
    public override string ToString() =>
        $"in={FramesReceived} frames/{BytesReceived} B out={FramesSent} frames/{BytesSent} B dropped={Dropped} " +
        $"reconnects={Reconnects} badFrames={BadFrames} livenessTimeouts={LivenessTimeouts}";

    internal void OnReceived(long frames, long bytes)
    {
        Interlocked.Add(ref _framesReceived, frames);
        Interlocked.Add(ref _bytesReceived, bytes);
        _totals?.OnReceived(frames, bytes);
    }

    internal void OnSent(long frames, long bytes)
    {
        Interlocked.Add(ref _framesSent, frames);
        Interlocked.Add(ref _bytesSent, bytes);
        _totals?.OnSent(frames, bytes);
    }

    internal void OnDropped(long envelopes = 1)
    {
        Interlocked.Add(ref _dropped, envelopes);
        _totals?.OnDropped(envelopes);
    }

    internal void OnReconnected()
    {
        Interlocked.Increment(ref _reconnects);
        _totals?.OnReconnected();
    }

    internal void OnBadFrame()
    {
        Interlocked.Increment(ref _badFrames);
        _totals?.OnBadFrame();
    }

    internal void OnLivenessTimeout()
    {
        Interlocked.Increment(ref _livenessTimeouts);
        _totals?.OnLivenessTimeout();
    }
}
