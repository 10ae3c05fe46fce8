using MeshActors.Actors.Internal;

namespace MeshActors.Actors;

/// <summary>Forward, Ask and GracefulStop on any <see cref="IActorRef"/>, as in Akka.NET.</summary>
public static class ActorRefExtensions
{
    /// <summary>Sends <paramref name="message"/> keeping the current message's sender, so that the recipient replies to the original sender.</summary>
    public static void Forward(this IActorRef recipient, object message)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        recipient.Tell(message, ActorCell.CurrentRawSender ?? ActorRefs.NoSender);
    }

    /// <summary>
    /// Sends <paramref name="message"/> and completes with the first reply of type <typeparamref name="T"/>. The task
    /// fails with the cause of a <see cref="Status.Failure"/> reply, with <see cref="AskTimeoutException"/> after
    /// <paramref name="timeout"/> (default <see cref="ActorSystemOptions.AskTimeout"/>), at once with
    /// <see cref="ActorTerminatedException"/> when the recipient is stopped (or <see cref="MailboxOverflowException"/>
    /// when its bounded mailbox is full), and is cancelled by <paramref name="cancellationToken"/>.
    /// Continuations never run on the replying actor's thread. The timeout must be positive or infinite; one longer
    /// than about 49.7 days (the .NET timer limit) counts as infinite.
    /// </summary>
    public static Task<T> Ask<T>(this IActorRef recipient, object message, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        ArgumentNullException.ThrowIfNull(message);
        if (recipient is not IInternalActorRef { System: { } system } target || target.IsTerminated)
        {
            return Task.FromException<T>(new ActorTerminatedException(recipient, message)); // the question, undelivered
        }

        var wait = timeout ?? system.Options.AskTimeout;
        if (wait <= TimeSpan.Zero && wait != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The ask timeout must be positive or infinite.");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        var promise = new PromiseActorRef<T>(system, recipient, message, wait);
        promise.Start(cancellationToken);
        recipient.Tell(message, promise);
        return promise.Task;
    }

    /// <summary>Untyped <see cref="Ask{T}"/>: completes with whatever the recipient replies.</summary>
    public static Task<object> Ask(this IActorRef recipient, object message, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        recipient.Ask<object>(message, timeout, cancellationToken);

    /// <summary>
    /// Sends <see cref="PoisonPill"/> and completes with true once the actor has stopped, or false if it has not within
    /// <paramref name="timeout"/> (longer than about 49.7 days, the .NET timer limit: no limit).
    /// </summary>
    public static Task<bool> GracefulStop(this IActorRef actor, TimeSpan timeout) => actor.GracefulStop(timeout, PoisonPill.Instance);

    /// <summary>Sends <paramref name="stopMessage"/> and completes with true once the actor has stopped, or false if it has not within <paramref name="timeout"/>.</summary>
    public static Task<bool> GracefulStop(this IActorRef actor, TimeSpan timeout, object stopMessage)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(stopMessage);
        if (actor is not IInternalActorRef { System: { } system } target || target.IsTerminated)
        {
            return Task.FromResult(true);
        }

        var watcher = new StopWatcherRef(target, system);
        watcher.Start(timeout);
        actor.Tell(stopMessage, ActorRefs.NoSender);
        return watcher.Task;
    }
}
