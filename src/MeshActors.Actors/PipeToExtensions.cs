namespace MeshActors.Actors;

/// <summary>Sends the outcome of a task to an actor as a message, the actor-safe way to use an async result.</summary>
public static class PipeToExtensions
{
    /// <summary>
    /// When <paramref name="task"/> completes, tells <paramref name="recipient"/> its result (or <paramref name="success"/>
    /// of it), or a <see cref="Status.Failure"/> (or <paramref name="failure"/> of the exception). The sender is
    /// <paramref name="sender"/>, or none.
    /// </summary>
    public static async Task PipeTo<T>(
        this Task<T> task,
        IActorRef recipient,
        IActorRef? sender = null,
        Func<T, object>? success = null,
        Func<Exception, object>? failure = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(recipient);
        sender ??= ActorRefs.NoSender; // explicit: the continuation may run on any actor's thread
        object message;
        try
        {
            var result = await task.ConfigureAwait(false);
            message = success is null ? (object?)result ?? new Status.Success(null) : success(result);
        }
        catch (Exception exception)
        {
            message = failure is null ? new Status.Failure(exception) : failure(exception);
        }

        recipient.Tell(message, sender);
    }

    /// <summary>
    /// When <paramref name="task"/> completes, tells <paramref name="recipient"/> <paramref name="success"/>() (default
    /// <see cref="Status.Success"/> with no value), or a <see cref="Status.Failure"/> (or <paramref name="failure"/> of the exception).
    /// </summary>
    public static async Task PipeTo(
        this Task task,
        IActorRef recipient,
        IActorRef? sender = null,
        Func<object>? success = null,
        Func<Exception, object>? failure = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(recipient);
        sender ??= ActorRefs.NoSender;
        object message;
        try
        {
            await task.ConfigureAwait(false);
            message = success is null ? new Status.Success(null) : success();
        }
        catch (Exception exception)
        {
            message = failure is null ? new Status.Failure(exception) : failure(exception);
        }

        recipient.Tell(message, sender);
    }
}
