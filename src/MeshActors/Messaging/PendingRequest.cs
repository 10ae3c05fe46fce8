using MeshActors.Protocol;

namespace MeshActors.Messaging;

/// <summary>A request this node sent and waits for: completes with the provider's <c>res</c> or <c>err</c>, or fails when the provider goes away.</summary>
/// <remarks>
/// Its caller's code runs on where the task completes, so it is completed only on a thread of the pool that has nothing
/// else to do: answers through <see cref="AnswerBatch"/>, failures and cancellations in a work item of their own;
/// never on a read loop, an actor's thread or a timer's. Its outcome is decided before that, when it happens: the
/// first of an answer, a failure and a cancellation settles it, and the others are dropped.
/// </remarks>
internal sealed class PendingRequest(long id, string service, RouteCandidate target) : TaskCompletionSource<Envelope>
{
    private int _settled;

    public long Id { get; } = id;

    public string Service { get; } = service;

    public RouteCandidate Target { get; } = target;

    /// <summary>Cancels the wait, for <paramref name="token"/>, when <paramref name="token"/> fires; dispose the registration once the wait is over.</summary>
    /// <remarks>What <c>Task.WaitAsync(token)</c> did, without a second task per request. The request stays registered: the caller abandons it.</remarks>
    public CancellationTokenRegistration CancelWith(CancellationToken token) =>
        token.UnsafeRegister(static (state, token) => ((PendingRequest)state!).Cancel(token), this);

    /// <summary>Settles the request with <paramref name="answer"/>: with the other answers of the read when a read loop gathers them, else in a work item of its own.</summary>
    public void Answer(Envelope answer)
    {
        if (TrySettle())
            AnswerBatch.Complete(this, answer);
    }

    /// <summary>Fails the wait with <paramref name="reason"/>, in a work item of the pool.</summary>
    public void Fail(Exception reason)
    {
        if (TrySettle())
            ThreadPool.UnsafeQueueUserWorkItem(static s => s.Pending.TrySetException(s.Reason), (Pending: this, Reason: reason), preferLocal: false);
    }

    private void Cancel(CancellationToken token)
    {
        if (TrySettle())
            ThreadPool.UnsafeQueueUserWorkItem(static s => s.Pending.TrySetCanceled(s.Token), (Pending: this, Token: token), preferLocal: false);
    }

    private bool TrySettle() => Interlocked.Exchange(ref _settled, 1) == 0;
}
