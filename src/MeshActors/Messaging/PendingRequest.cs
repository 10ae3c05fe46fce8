using MeshActors.Protocol;

namespace MeshActors.Messaging;

/// <summary>A request this node sent and waits for: completes with the provider's <c>res</c> or <c>err</c>, or fails when the provider goes away.</summary>
internal sealed class PendingRequest(long id, string service, RouteCandidate target)
    : TaskCompletionSource<Envelope>(TaskCreationOptions.RunContinuationsAsynchronously) // never run the caller's code on a read loop
{
    public long Id { get; } = id;

    public string Service { get; } = service;

    public RouteCandidate Target { get; } = target;

    /// <summary>Cancels the wait, for <paramref name="token"/>, when <paramref name="token"/> fires; dispose the registration once the wait is over.</summary>
    /// <remarks>What <c>Task.WaitAsync(token)</c> did, without a second task per request. The request stays registered: the caller abandons it.</remarks>
    public CancellationTokenRegistration CancelWith(CancellationToken token) =>
        token.UnsafeRegister(static (state, token) => ((PendingRequest)state!).TrySetCanceled(token), this);
}
