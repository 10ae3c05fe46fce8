using MeshActors.Actors.Dispatch;

namespace MeshActors.Actors.Internal;

/// <summary>
/// Installed while a <c>ReceiveAsync</c> handler runs: an <c>await</c> inside it resumes as a system message of the
/// actor (one incarnation: <paramref name="generation"/>), never concurrently with the actor.
/// </summary>
internal sealed class ActorSynchronizationContext(ActorCell cell, int generation) : SynchronizationContext
{
    public override void Post(SendOrPostCallback d, object? state) =>
        cell.SendSystemMessage(new RunContinuation(d, state, generation));

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("An actor cannot run code synchronously on behalf of another thread.");

    public override SynchronizationContext CreateCopy() => this;
}
