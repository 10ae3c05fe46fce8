using MeshActors.Protocol;

namespace MeshActors.Messaging;

/// <summary>A request this node sent and waits for: completes with the provider's <c>res</c> or <c>err</c>, or fails when the provider goes away.</summary>
/// <remarks>
/// Its caller's code runs on where the task completes, so it is completed only on a thread of the pool that has nothing
/// else to do: answers through <see cref="AnswerBatch"/>, failures and cancellations in a work item of their own;
/// never on a read loop, an actor's thread or a timer's. Its outcome is decided before that, when it happens: the
/// first of an answer, a failure and a cancellation settles it, and the others are dropped.
/// </remarks>
internal sealed class PendingRequest(long id, string service, RouteCandidate target) : TaskCompletionSource<Envelope>, IThreadPoolWorkItem
{
    private int _settled;
    private object? _outcome; // once settled: the answer, the failure, or the cancellation

    public long Id { get; } = id;

    public string Service { get; } = service;

    public RouteCandidate Target { get; } = target;

    /// <summary>Cancels the wait, for <paramref name="token"/>, when <paramref name="token"/> fires; dispose the registration once the wait is over.</summary>
    /// <remarks>What <c>Task.WaitAsync(token)</c> did, without a second task per request. The request stays registered: the caller abandons it.</remarks>
    public CancellationTokenRegistration CancelWith(CancellationToken token) =>
        token.UnsafeRegister(static (state, token) => ((PendingRequest)state!).Cancel(token), this);

    /// <summary>Settles the request with <paramref name="answer"/>: with the other answers of the read when a read loop gathers them, else in a work item of its own.</summary>
    public void Answer(Envelope answer) => Settle(answer, AnswerBatch.Complete);

    /// <summary>Fails the wait with <paramref name="reason"/>, in a work item of the pool.</summary>
    public void Fail(Exception reason) => Settle(reason, Queue);

    /// <summary>Completes the task with the outcome it was settled with, on this thread: the caller's code goes on from here.</summary>
    public void Complete()
    {
        switch (_outcome)
        {
            case Envelope answer:
                TrySetResult(answer);
                break;
            case OperationCanceledException cancelled:
                TrySetCanceled(cancelled.CancellationToken);
                break;
            case Exception failure:
                TrySetException(failure);
                break;
        }
    }

    void IThreadPoolWorkItem.Execute() => Complete();

    private void Cancel(CancellationToken token) => Settle(new OperationCanceledException(token), Queue);

    private static void Queue(PendingRequest pending) => ThreadPool.UnsafeQueueUserWorkItem(pending, preferLocal: false);

    // The first outcome settles it, when it happens; the task completes with it where `complete` says.
    private void Settle(object outcome, Action<PendingRequest> complete)
    {
        if (Interlocked.Exchange(ref _settled, 1) != 0)
            return;
        _outcome = outcome;
        complete(this);
    }
}
