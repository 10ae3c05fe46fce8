namespace MeshActors.Messaging;

/// <summary>Counters of the messaging layer of one node, for monitoring: every message dropped or refused is counted here.</summary>
/// <remarks>
/// Read at any time from any thread; each value only grows. Only exceptional events are counted here: the frames and
/// bytes every message costs are counted once, by the peer layer, so the hot path shares no counter between threads.
/// </remarks>
public sealed class MessagingStats
{
    private long _droppedSends;
    private long _undeliverable;
    private long _droppedAttachments;
    private long _subscriberFailures;
    private long _subscribersBehind;
    private long _handlerFailures;
    private long _noServiceAnswers;
    private long _unmatchedAnswers;

    /// <summary>Envelopes not queued because a peer's outbound queue was full or the peer was gone.</summary>
    public long DroppedSends => Volatile.Read(ref _droppedSends);

    /// <summary>Topic messages that arrived for a topic nobody here listens to any more (an unsubscribe crossed them).</summary>
    public long Undeliverable => Volatile.Read(ref _undeliverable);

    /// <summary>Messages not sent to a peer that does not accept binary attachments.</summary>
    public long DroppedAttachments => Volatile.Read(ref _droppedAttachments);

    /// <summary>Messages a callback subscriber could not read or whose callback threw.</summary>
    public long SubscriberFailures => Volatile.Read(ref _subscriberFailures);

    /// <summary>Times a callback subscriber fell <see cref="MessagingOptions.SubscriberBacklogLimit"/> messages behind, so that what feeds it waited.</summary>
    public long SubscribersBehind => Volatile.Read(ref _subscribersBehind);

    /// <summary>Requests whose handler failed (answered with <c>handler_error</c> or <c>bad_request</c>).</summary>
    public long HandlerFailures => Volatile.Read(ref _handlerFailures);

    /// <summary>Requests for a service this node does not host (answered with <c>no_service</c>).</summary>
    public long NoServiceAnswers => Volatile.Read(ref _noServiceAnswers);

    /// <summary>Answers for a request nobody waits for any more (it timed out or was cancelled), dropped as the protocol says.</summary>
    public long UnmatchedAnswers => Volatile.Read(ref _unmatchedAnswers);

    internal void OnDroppedSend() => Interlocked.Increment(ref _droppedSends);

    internal void OnUndeliverable() => Interlocked.Increment(ref _undeliverable);

    internal void OnDroppedAttachment() => Interlocked.Increment(ref _droppedAttachments);

    internal void OnSubscriberFailure() => Interlocked.Increment(ref _subscriberFailures);

    internal void OnSubscriberBehind() => Interlocked.Increment(ref _subscribersBehind);

    internal void OnHandlerFailure() => Interlocked.Increment(ref _handlerFailures);

    internal void OnNoServiceAnswer() => Interlocked.Increment(ref _noServiceAnswers);

    internal void OnUnmatchedAnswer() => Interlocked.Increment(ref _unmatchedAnswers);
}
