using System.Collections.Concurrent;
using MeshActors.Actors.Internal;

namespace MeshActors.Actors.Dispatch;

/// <summary>
/// The queue of one actor and the thread-pool work item that drains it: the kernel's hot path.
/// </summary>
/// <remarks>
/// <para>
/// Any thread posts; one thread at a time runs <see cref="Execute"/>, guaranteed by the status word: the poster
/// that moves it from idle to scheduled (CAS) queues the mailbox on the thread pool. A turn processes every system
/// message, then up to <see cref="ActorSystemOptions.Throughput"/> user messages, looking at system messages again
/// after each one.
/// </para>
/// <para>
/// A turn ends with a full fence (<see cref="Interlocked.And(ref int, int)"/>) followed by a re-check of both queues.
/// A poster enqueues (a full fence inside <see cref="ConcurrentQueue{T}"/> or the CAS of the system list) and then
/// reads the status. With fences on both sides, either the poster sees idle and schedules, or the ending turn sees
/// the message and reschedules; a plain volatile write of "idle" could be reordered after the re-check and lose
/// the wake-up. Closing works the same way: the cell sets the closed bit with a full fence and drains, and a poster
/// that sees the bit after enqueuing drains too, so a late message always reaches dead letters.
/// </para>
/// <para>
/// The user queue is created on the first message (an idle actor that never received one costs no queue), and user
/// messages are stored as <see cref="Envelope"/> structs, so a Tell allocates nothing. System messages form a
/// lock-free list (LIFO under CAS, reversed when taken), which costs one field while empty.
/// </para>
/// </remarks>
internal sealed class Mailbox : IThreadPoolWorkItem
{
    private const int Idle = 0;
    private const int Scheduled = 1;
    private const int Closed = 2;

    private readonly ActorCell _cell;
    private readonly int _capacity;
    private ConcurrentQueue<Envelope>? _queue;
    private Queue<Envelope>? _front;
    private SystemMessage? _systemMessages;
    private int _status;
    private int _count;

    public Mailbox(ActorCell cell, MailboxOptions options)
    {
        _cell = cell;
        _capacity = options.BoundedCapacity ?? 0;
    }

    /// <summary>The number of user messages waiting (approximate while others post).</summary>
    public int Count => (_queue?.Count ?? 0) + (_front?.Count ?? 0);

    public bool HasSystemMessages => Volatile.Read(ref _systemMessages) is not null;

    public bool IsClosed => (Volatile.Read(ref _status) & Closed) != 0;

    /// <summary>Enqueues a user message; never blocks. A full bounded mailbox hands the message to dead letters.</summary>
    public void Post(Envelope envelope)
    {
        if (_capacity != 0 && IsClosed)
        {
            _cell.System.DeadLetter(envelope.Message, envelope.Sender, _cell.Self); // stopped, not full
            return;
        }

        if (_capacity != 0 && Interlocked.Increment(ref _count) > _capacity)
        {
            Interlocked.Decrement(ref _count);
            _cell.System.Overflow(envelope, _cell.Self);
            return;
        }

        Enqueue(envelope);
    }

    /// <summary>Enqueues a message the kernel must not lose to a full bounded mailbox (<see cref="Terminated"/>, timer messages).</summary>
    public void PostInternal(Envelope envelope)
    {
        if (_capacity != 0)
        {
            Interlocked.Increment(ref _count);
        }

        Enqueue(envelope);
    }

    public void PostSystem(SystemMessage message)
    {
        SystemMessage? head;
        do
        {
            head = Volatile.Read(ref _systemMessages);
            message.Next = head;
        }
        while (Interlocked.CompareExchange(ref _systemMessages, message, head) != head);

        var status = Volatile.Read(ref _status);
        if (status == Idle)
        {
            TrySchedule(preferLocal: true);
        }
        else if ((status & Closed) != 0)
        {
            DrainSystemMessagesAfterClose();
        }
    }

    /// <summary>Puts messages in front of the queue, in order (unstash). Only on the actor's own turn.</summary>
    public void EnqueueFirst(IReadOnlyList<Envelope> envelopes)
    {
        if (envelopes.Count == 0)
        {
            return;
        }

        var front = new Queue<Envelope>(envelopes.Count + (_front?.Count ?? 0));
        foreach (var envelope in envelopes)
        {
            front.Enqueue(envelope);
        }

        if (_front is not null)
        {
            while (_front.TryDequeue(out var envelope))
            {
                front.Enqueue(envelope);
            }
        }

        _front = front;
    }

    /// <summary>Stops scheduling for good and hands every waiting message to dead letters. Only on the actor's own turn.</summary>
    public void Close()
    {
        Interlocked.Or(ref _status, Closed);
        if (_front is not null)
        {
            while (_front.TryDequeue(out var envelope))
            {
                _cell.System.DeadLetter(envelope.Message, envelope.Sender, _cell.Self);
            }
        }

        DrainToDeadLetters();
        DrainSystemMessagesAfterClose();
    }

    public void Execute()
    {
        var cell = _cell;
        var previous = ActorCell.EnterTurn(cell);
        try
        {
            ProcessSystemMessages();
            for (var budget = cell.System.Options.Throughput; budget > 0 && !cell.UserSuspended; budget--)
            {
                if (!TryDequeue(out var envelope))
                {
                    break;
                }

                cell.Invoke(envelope);
                if (Volatile.Read(ref _systemMessages) is not null)
                {
                    ProcessSystemMessages();
                }
            }
        }
        catch (Exception exception)
        {
            // Actor code never gets here (the cell catches its exceptions); this is a kernel bug. Keep the actor alive.
            cell.System.LogInternalError(exception, cell.Self);
        }
        finally
        {
            ActorCell.ExitTurn(previous);
            var frontPending = _front is { Count: > 0 } && !cell.UserSuspended;
            Interlocked.And(ref _status, ~Scheduled);
            if (frontPending || HasWaitingMessages())
            {
                TrySchedule(preferLocal: false);
            }
        }
    }

    private bool HasWaitingMessages() =>
        Volatile.Read(ref _systemMessages) is not null
        || (!_cell.UserSuspended && Volatile.Read(ref _queue) is { IsEmpty: false });

    private void Enqueue(Envelope envelope)
    {
        var queue = _queue ?? CreateQueue();
        queue.Enqueue(envelope);
        var status = Volatile.Read(ref _status);
        if (status == Idle)
        {
            TrySchedule(preferLocal: true);
        }
        else if ((status & Closed) != 0)
        {
            DrainToDeadLetters();
        }
    }

    private ConcurrentQueue<Envelope> CreateQueue()
    {
        var queue = new ConcurrentQueue<Envelope>();
        return Interlocked.CompareExchange(ref _queue, queue, null) ?? queue;
    }

    private void TrySchedule(bool preferLocal)
    {
        if (Interlocked.CompareExchange(ref _status, Scheduled, Idle) == Idle)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal);
        }
    }

    private bool TryDequeue(out Envelope envelope)
    {
        if (_front is { Count: > 0 } front)
        {
            envelope = front.Dequeue();
            return true;
        }

        if (_queue is { } queue && queue.TryDequeue(out envelope))
        {
            if (_capacity != 0)
            {
                Interlocked.Decrement(ref _count);
            }

            return true;
        }

        envelope = default;
        return false;
    }

    private void ProcessSystemMessages()
    {
        while (Interlocked.Exchange(ref _systemMessages, null) is { } list)
        {
            for (var message = Reverse(list); message is not null;)
            {
                var next = message.Next;
                message.Next = null;
                _cell.SystemInvoke(message);
                message = next;
            }
        }
    }

    private void DrainToDeadLetters()
    {
        if (_queue is not { } queue)
        {
            return;
        }

        while (queue.TryDequeue(out var envelope))
        {
            if (_capacity != 0)
            {
                // Else a stopped actor's mailbox would stay full, and what is sent to it would count as overflow.
                Interlocked.Decrement(ref _count);
            }

            _cell.System.DeadLetter(envelope.Message, envelope.Sender, _cell.Self);
        }
    }

    private void DrainSystemMessagesAfterClose()
    {
        while (Interlocked.Exchange(ref _systemMessages, null) is { } list)
        {
            for (var message = Reverse(list); message is not null; message = message.Next)
            {
                _cell.SystemInvokeAfterClose(message);
            }
        }
    }

    private static SystemMessage Reverse(SystemMessage list)
    {
        SystemMessage? reversed = null;
        for (var message = list; message is not null;)
        {
            var next = message.Next;
            message.Next = reversed;
            reversed = message;
            message = next;
        }

        return reversed!;
    }
}
