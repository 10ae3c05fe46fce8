namespace MeshActors.Messaging;

/// <summary>
/// The answers one read of a channel brought, handed to their callers together: one work item of the thread pool for
/// the lot, whose thread runs each caller's code on from its <c>await</c>, where a work item for each answer spread
/// them over every core for nothing (docs/architecture.md, Answers). Never on the read loop's own thread: a caller's
/// code must not hold up the channel.
/// </summary>
/// <remarks>
/// A caller that blocks after its <c>await</c> would hold back the answers behind its own, so before each answer but
/// the last the runner makes sure another work item waits in the pool to take the rest: a quick batch is done before
/// that one runs (it then finds nothing left), a blocked caller keeps only its own thread.
/// </remarks>
internal sealed class AnswerBatch : IThreadPoolWorkItem
{
    [ThreadStatic]
    private static bool t_gathering;

    [ThreadStatic]
    private static AnswerBatch? t_batch;

    private PendingRequest[] _answers = new PendingRequest[16];
    private int _count;
    private int _next;
    private int _runnerQueued;

    /// <summary>Answers completed on this thread wait for <see cref="Dispatch"/> from now on: a read loop calls both around one read.</summary>
    public static void Gather() => t_gathering = true;

    /// <summary>Hands the answers gathered on this thread since <see cref="Gather"/> to the pool, in one work item.</summary>
    public static void Dispatch()
    {
        t_gathering = false;
        if (t_batch is not { } batch)
            return;
        t_batch = null;
        batch._runnerQueued = 1;
        ThreadPool.UnsafeQueueUserWorkItem(batch, preferLocal: true);
    }

    /// <summary>Completes <paramref name="pending"/>, answered: with the others of this read when a read loop gathers them, else in a work item of its own.</summary>
    public static void Complete(PendingRequest pending)
    {
        if (t_gathering)
            (t_batch ??= new AnswerBatch()).Add(pending);
        else
            ThreadPool.UnsafeQueueUserWorkItem(pending, preferLocal: false);
    }

    private void Add(PendingRequest pending)
    {
        if (_count == _answers.Length)
            Array.Resize(ref _answers, _count * 2);
        _answers[_count++] = pending;
    }

    void IThreadPoolWorkItem.Execute()
    {
        Volatile.Write(ref _runnerQueued, 0); // this is the runner that was queued: a blocked answer may need another
        while (true)
        {
            var next = Interlocked.Increment(ref _next) - 1;
            if (next >= _count)
                return;
            if (next < _count - 1 && Volatile.Read(ref _runnerQueued) == 0 && Interlocked.Exchange(ref _runnerQueued, 1) == 0)
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
            var pending = _answers[next];
            _answers[next] = null!;
            pending.Complete();
        }
    }
}
