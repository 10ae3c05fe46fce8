using System.Collections.Concurrent;
using MeshActors.Protocol;

namespace MeshActors.Peers;

/// <summary>
/// One peer's envelopes waiting to be written: many senders, one consumer at a time (the writer of the channel the
/// peer layer chose), bounded in bytes. It belongs to the peer, not to a channel, so what is queued survives reconnects.
/// </summary>
/// <param name="capBytes">The bytes no sender goes beyond (<see cref="PeerOptions.OutboundQueueCapBytes"/>).</param>
/// <param name="backpressureEnvelopes">The envelopes a sender that may wait does not go beyond (<see cref="PeerOptions.BackpressureEnvelopes"/>).</param>
/// <param name="backpressureBytes">The bytes a sender that may wait does not go beyond (<see cref="PeerOptions.BackpressureBytes"/>).</param>
/// <param name="stats">Where drops are counted.</param>
/// <param name="isWanted">
/// False for an envelope nobody waits for any more (a request whose caller was answered already): it is not written,
/// and a sender waiting for room for it stops waiting. Everything is wanted when null.
/// </param>
/// <remarks>
/// Enqueueing is a <see cref="ConcurrentQueue{T}"/> add, one compare-and-swap on the byte count, one increment of the
/// envelope count and reads of the waiting senders' count and the consumer's wake flag; the consumer gives both back
/// once per batch, and then queues for waiting senders in the order they came. When another consumer is attached, the old one
/// takes nothing more; an item is taken by exactly one of them, so nothing is written twice. Attachments
/// are numbered by whoever decides them (the peer manager): one carried out late, because its channel's actor ran
/// behind, never displaces a later one, which would leave the queue to a channel that is retiring.
/// </remarks>
internal sealed class OutboundQueue(long capBytes, int backpressureEnvelopes, long backpressureBytes, PeerStats stats, Func<Envelope, bool>? isWanted = null)
{
    // What an envelope costs beyond its data and attachment: the envelope object, the queue slot and the JSON around the data.
    private const int EnvelopeOverhead = 64;

    /// <summary>How far beyond the cap answers owed to requests may still be queued.</summary>
    public const long OwedBytes = 1024 * 1024;

    private readonly ConcurrentQueue<Envelope> _items = new();
    private readonly Lock _attaching = new();
    private IOutboundConsumer? _consumer;
    private long _attachment;
    private readonly WaitersSignal _room = new(); // for whoever waits for the queue to empty
    private readonly LinkedList<WaitingSender> _waiting = []; // senders waiting for room, first come first served (lock it)
    private int _waitingCount;
    private string? _closed;
    private long _bytes;
    private int _envelopes;

    /// <summary>The estimated bytes of the envelopes queued.</summary>
    public long QueuedBytes => Volatile.Read(ref _bytes);

    /// <summary>Senders waiting for room now.</summary>
    public int WaitingSenders => Volatile.Read(ref _waitingCount);

    /// <summary>True once <see cref="Close"/> was called.</summary>
    public bool IsClosed => Volatile.Read(ref _closed) is not null;

    /// <summary>What an envelope counts against the cap: its data and attachment, or an announcement's names, plus a constant (cheap, no encoding).</summary>
    public static long SizeOf(Envelope envelope) =>
        EnvelopeOverhead + EnvelopeEncoder.DataOf(envelope).Length + EnvelopeEncoder.AttachmentOf(envelope).Length
        + (envelope is Envelope.Interest interest ? NamesSize(interest.Topics) + NamesSize(interest.Services) : 0);

    private static long NamesSize(IReadOnlyList<string> names)
    {
        long size = 0;
        foreach (var name in names)
            size += name.Length + 3; // quotes and a comma; an estimate, as the rest is
        return size;
    }

    /// <summary>Queues <paramref name="envelope"/> unless the queue is at its cap or closed; never waits. A refusal is counted as a drop.</summary>
    public bool TryEnqueue(Envelope envelope)
    {
        if (IsClosed || !TryReserve(SizeOf(envelope)))
        {
            stats.OnDropped();
            return false;
        }

        return Add(envelope);
    }

    /// <summary>
    /// Queues an answer owed to a request (or a cancel owed to a handler) beyond the cap, by up to <see cref="OwedBytes"/>: refused, it would be lost for
    /// good and its requester wait out its timeout. The margin is bounded all the same, or a peer that asks without
    /// reading could make this node hold its answers without end. False (counted as a drop) when closed or beyond it.
    /// </summary>
    public bool EnqueueOwed(Envelope envelope)
    {
        if (IsClosed || Volatile.Read(ref _bytes) > capBytes + OwedBytes)
        {
            stats.OnDropped();
            return false;
        }

        Interlocked.Add(ref _bytes, SizeOf(envelope));
        return Add(envelope);
    }

    /// <summary>
    /// Queues <paramref name="envelope"/>. When <paramref name="wait"/>, waits while the queue is at its cap or at a
    /// backpressure threshold (envelopes or bytes); otherwise throws at the cap.
    /// </summary>
    /// <exception cref="PeerQueueFullException">The queue is at its cap and <paramref name="wait"/> is false.</exception>
    /// <exception cref="PeerUnavailableException">The queue was closed: the peer left.</exception>
    /// <remarks>
    /// Waiting senders get room in the order they came, and a sender that may wait queues behind them even when there is
    /// room: one caller's sends, awaited or not, go out in the order it made them. <see cref="TryEnqueue"/> and a
    /// sender that may not wait do not queue behind them.
    /// </remarks>
    public ValueTask EnqueueAsync(Envelope envelope, bool wait, string nodeId, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled(cancellationToken); // given up on before it was made, as a bounded channel's write

        var size = SizeOf(envelope);
        if (!IsClosed && (!wait || (Volatile.Read(ref _waitingCount) == 0 && !IsBackedUp)) && TryReserve(size))
        {
            return Add(envelope) ? ValueTask.CompletedTask : ValueTask.FromException(Closed(nodeId));
        }

        return EnqueueSlowAsync(envelope, size, wait, nodeId, cancellationToken);
    }

    /// <summary>
    /// Makes <paramref name="consumer"/> the one that drains the queue (the previous one takes nothing more)
    /// and wakes it, unless an attachment numbered above <paramref name="attachment"/> came first; false then.
    /// </summary>
    public bool Attach(IOutboundConsumer consumer, long attachment)
    {
        lock (_attaching)
        {
            if (attachment < _attachment)
            {
                return false;
            }

            _attachment = attachment;
            Volatile.Write(ref _consumer, consumer);
        }

        consumer.Signal.Wake();
        return true;
    }

    /// <summary>Stops <paramref name="consumer"/> draining the queue, if it still does.</summary>
    public void Detach(IOutboundConsumer consumer) => Interlocked.CompareExchange(ref _consumer, null, consumer);

    /// <summary>True while <paramref name="consumer"/> is the one that drains the queue.</summary>
    public bool IsDrainedBy(IOutboundConsumer consumer) => ReferenceEquals(Volatile.Read(ref _consumer), consumer);

    /// <summary>False for an envelope that is better not sent: nobody waits for it any more.</summary>
    public bool IsWanted(Envelope envelope) => isWanted?.Invoke(envelope) ?? true;

    /// <summary>True when there is something to take.</summary>
    public bool HasItems => !_items.IsEmpty;

    /// <summary>The requests queued now, none of them taken by a channel yet: no peer has seen them.</summary>
    public IEnumerable<Envelope.Req> QueuedRequests => _items.OfType<Envelope.Req>();

    /// <summary>Consumer side: takes the next envelope; call <see cref="Release"/> with the count and sizes of what was taken, once per batch.</summary>
    public bool TryDequeue(out Envelope envelope) => _items.TryDequeue(out envelope!);

    /// <summary>Consumer side: gives back the room of <paramref name="envelopes"/> taken, of <paramref name="bytes"/> in all, and wakes senders waiting for room.</summary>
    public void Release(int envelopes, long bytes)
    {
        if (envelopes == 0)
        {
            return;
        }

        Interlocked.Add(ref _envelopes, -envelopes);
        Interlocked.Add(ref _bytes, -bytes);
        AdmitWaiting();
        if (_room.HasWaiters)
        {
            _room.Release();
        }
    }

    /// <summary>Completes once the queue is empty (a consumer took everything) or closed, or <paramref name="wanted"/> turns false (looked at after each <see cref="Wake"/>).</summary>
    public async Task WhenEmptyAsync(Func<bool> wanted, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Registered before the look, as senders waiting for room do: the consumer signals room after each batch.
            var room = _room.WaitTask;
            if (IsClosed || Volatile.Read(ref _envelopes) == 0 || !wanted())
            {
                return;
            }

            await room.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Drops (and counts) what is queued, for a peer that will never read it (it restarted); returns how many.
    /// <paramref name="unsent"/> hears of each request among them.
    /// </summary>
    public long DropQueued(Action<Envelope.Req> unsent) => DropAll(unsent);

    /// <summary>Wakes whoever waits for room or for the queue to empty, to look again at what they wait for: a sender whose envelope is not wanted any more stops waiting.</summary>
    public void Wake()
    {
        if (Volatile.Read(ref _waitingCount) > 0)
        {
            List<WaitingSender> unwanted;
            lock (_waiting)
            {
                unwanted = _waiting.Where(sender => !IsWanted(sender.Envelope)).ToList();
                foreach (var sender in unwanted)
                    Remove(sender);
            }

            foreach (var sender in unwanted)
                sender.TrySetException(NotWanted(sender));
            AdmitWaiting();
        }

        _room.Release();
    }

    /// <summary>Refuses further envelopes, fails waiting senders with <paramref name="reason"/>, and drops what is queued (counted); returns how many were dropped.</summary>
    public long Close(string reason)
    {
        if (Interlocked.CompareExchange(ref _closed, reason, null) is not null)
        {
            return 0;
        }

        Volatile.Write(ref _consumer, null);
        List<WaitingSender> waiting;
        lock (_waiting)
        {
            waiting = [.. _waiting];
            foreach (var sender in waiting)
                Remove(sender);
        }

        foreach (var sender in waiting)
            sender.TrySetException(Closed(sender.NodeId));
        _room.Release();
        return DropAll();
    }

    private bool IsBackedUp => Volatile.Read(ref _envelopes) >= backpressureEnvelopes || Volatile.Read(ref _bytes) >= backpressureBytes;

    // False when the queue was closed while this sender added: what it added was dropped with the rest, and the sender
    // must hear so, or it would take its envelope for queued (a request then waiting for its timeout).
    private bool Add(Envelope envelope)
    {
        Interlocked.Increment(ref _envelopes);
        _items.Enqueue(envelope);
        if (Volatile.Read(ref _closed) is not null)
        {
            DropAll(); // nothing may stay behind in a dead queue
            return false;
        }

        Volatile.Read(ref _consumer)?.Signal.Wake();
        return true;
    }

    private long DropAll(Action<Envelope.Req>? unsent = null)
    {
        long dropped = 0, bytes = 0;
        while (_items.TryDequeue(out var envelope))
        {
            dropped++;
            bytes += SizeOf(envelope);
            if (envelope is Envelope.Req req)
                unsent?.Invoke(req);
        }

        Interlocked.Add(ref _envelopes, -(int)dropped);
        Interlocked.Add(ref _bytes, -bytes);
        stats.OnDropped(dropped);
        return dropped;
    }

    // A compare-and-swap rather than add-then-undo: a count inflated for a moment by a sender that is then refused
    // could make another sender wait for room that nobody will ever give back. An envelope larger than the cap still
    // goes into an empty queue, or it could never be sent.
    private bool TryReserve(long size)
    {
        var current = Volatile.Read(ref _bytes);
        while (current == 0 || current + size <= capBytes)
        {
            var seen = Interlocked.CompareExchange(ref _bytes, current + size, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    private ValueTask EnqueueSlowAsync(Envelope envelope, long size, bool wait, string nodeId, CancellationToken cancellationToken)
    {
        if (IsClosed)
            return ValueTask.FromException(Closed(nodeId));
        if (!wait)
        {
            stats.OnDropped();
            return ValueTask.FromException(new PeerQueueFullException(nodeId, capBytes));
        }

        var sender = new WaitingSender(this, envelope, size, nodeId);
        lock (_waiting)
        {
            // Under the lock Close takes: a sender that gets in after it would wait for ever.
            if (IsClosed)
                return ValueTask.FromException(Closed(nodeId));
            sender.Node = _waiting.AddLast(sender);
            Volatile.Write(ref _waitingCount, _waiting.Count);
        }

        AdmitWaiting(); // the room may have come back since the look
        return sender.Task.IsCompleted ? new ValueTask(sender.Task) : WaitAsync(sender, cancellationToken);
    }

    private async ValueTask WaitAsync(WaitingSender sender, CancellationToken cancellationToken)
    {
        await using (cancellationToken.UnsafeRegister(static (state, token) => ((WaitingSender)state!).GiveUp(token), sender))
        {
            await sender.Task.ConfigureAwait(false);
        }
    }

    /// <summary>A waiting sender's token was cancelled: it stops waiting, unless its envelope was queued already.</summary>
    private void GiveUp(WaitingSender sender, CancellationToken token)
    {
        lock (_waiting)
        {
            if (sender.Node is null)
                return; // queued, or failed, already
            Remove(sender);
        }

        sender.TrySetCanceled(token);
        AdmitWaiting(); // it may have held up those behind it
    }

    /// <summary>Queues the envelopes of waiting senders, in the order they came, for as long as there is room for the first.</summary>
    private void AdmitWaiting()
    {
        if (Volatile.Read(ref _waitingCount) == 0)
            return;
        List<(WaitingSender Sender, Exception? Failure)>? done = null;
        lock (_waiting)
        {
            while (_waiting.First?.Value is { } first)
            {
                Exception? failure = null;
                if (!IsWanted(first.Envelope))
                    failure = NotWanted(first); // its caller was failed meanwhile, and may take it elsewhere
                else if (IsBackedUp || !TryReserve(first.Size))
                    break;
                // Queued here, under the lock, not by the sender when it wakes: senders woken together would race. And
                // before it leaves the line: while the line is not empty, a later send of its caller queues behind it.
                if (failure is null && !Add(first.Envelope))
                    failure = Closed(first.NodeId);
                Remove(first);
                (done ??= []).Add((first, failure));
            }
        }

        // Outside the lock: completions run nothing inline (the tasks' continuations go to the pool), but cheap is cheap.
        foreach (var (sender, failure) in done ?? [])
        {
            if (failure is null)
                sender.TrySetResult();
            else
                sender.TrySetException(failure);
        }
    }

    // Under the lock.
    private void Remove(WaitingSender sender)
    {
        _waiting.Remove(sender.Node!);
        sender.Node = null;
        Volatile.Write(ref _waitingCount, _waiting.Count);
    }

    private static PeerUnavailableException NotWanted(WaitingSender sender) =>
        new(sender.NodeId, $"nobody waits for the {sender.Envelope.Type} any more; it was not queued");

    private PeerUnavailableException Closed(string nodeId) => new(nodeId, Volatile.Read(ref _closed)!);

    /// <summary>A sender waiting for room; completed once its envelope is queued, or failed.</summary>
    private sealed class WaitingSender(OutboundQueue queue, Envelope envelope, long size, string nodeId)
        : TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public Envelope Envelope { get; } = envelope;

        public long Size { get; } = size;

        public string NodeId { get; } = nodeId;

        /// <summary>Its place in the line while it waits; null once out of it (under the queue's lock).</summary>
        public LinkedListNode<WaitingSender>? Node { get; set; }

        public void GiveUp(CancellationToken token) => queue.GiveUp(this, token);
    }
}
