namespace MeshActors.Transport;

/// <summary>Counters of one listener or dialer, safe to read from any thread while it runs.</summary>
public sealed class TransportStats
{
    private long _accepted, _rejected, _dialed, _dialFailures, _open, _abrupt, _bytesReceived, _bytesSent;

    /// <summary>Inbound channels the listener accepted (answered 200).</summary>
    public long ChannelsAccepted => Volatile.Read(ref _accepted);

    /// <summary>Requests the listener refused: wrong path, method or protocol, or a missing <c>x-service-name</c>.</summary>
    public long ChannelsRejected => Volatile.Read(ref _rejected);

    /// <summary>Outbound channels the dialer opened.</summary>
    public long ChannelsDialed => Volatile.Read(ref _dialed);

    /// <summary>Outbound channels that could not be opened: connect failures, timeouts and rejections.</summary>
    public long DialFailures => Volatile.Read(ref _dialFailures);

    /// <summary>Channels that have not ended yet.</summary>
    public long OpenChannels => Volatile.Read(ref _open);

    /// <summary>Channels that ended abruptly: reset by either side, aborted, or lost with their connection.</summary>
    public long ChannelsAborted => Volatile.Read(ref _abrupt);

    /// <summary>Bytes read from channels' inputs, HTTP/2 framing excluded.</summary>
    public long BytesReceived => Volatile.Read(ref _bytesReceived);

    /// <summary>Bytes written to channels' outputs, HTTP/2 framing excluded.</summary>
    public long BytesSent => Volatile.Read(ref _bytesSent);

    internal void OnAccepted() => Interlocked.Increment(ref _accepted);
    internal void OnRejected() => Interlocked.Increment(ref _rejected);
    internal void OnDialed() => Interlocked.Increment(ref _dialed);
    internal void OnDialFailed() => Interlocked.Increment(ref _dialFailures);
    internal void OnChannelOpened() => Interlocked.Increment(ref _open);
    internal void OnChannelEnded() => Interlocked.Decrement(ref _open);
    internal void OnChannelAborted() => Interlocked.Increment(ref _abrupt);
    internal void OnReceived(long bytes) => Interlocked.Add(ref _bytesReceived, bytes);
    internal void OnSent(long bytes) => Interlocked.Add(ref _bytesSent, bytes);

    /// <inheritdoc />
    public override string ToString() =>
        $"accepted={ChannelsAccepted} rejected={ChannelsRejected} dialed={ChannelsDialed} dialFailures={DialFailures} " +
        $"open={OpenChannels} aborted={ChannelsAborted} bytesIn={BytesReceived} bytesOut={BytesSent}";
}
