using MeshActors.Actors.Dispatch;

namespace MeshActors.Actors.Internal;

// ReceiveAsync: the actor takes no user message until the handler's task completes, and the handler's
// continuations run as system messages of this actor, so that they never race the actor (not re-entrant).
internal sealed partial class ActorCell
{
    private Task? _pendingAsync;
    private int _asyncGeneration;
    private ActorSynchronizationContext? _syncContext;

    public void RunAsyncHandler<T>(Func<T, Task> handler, T message)
    {
        var context = _syncContext ??= new ActorSynchronizationContext(this, _asyncGeneration);
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(context);
        Task task;
        try
        {
            task = handler(message);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }

        if (task.IsCompleted)
        {
            task.GetAwaiter().GetResult(); // a synchronous failure goes to supervision like any other
            return;
        }

        _pendingAsync = task;
        UpdateSuspension();
        task.ContinueWith(
            static (_, state) =>
            {
                var completed = (AsyncCompleted)state!;
                completed.Cell.SendSystemMessage(completed);
            },
            new AsyncCompleted(this, task, _asyncGeneration),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>After a failure or a restart: late continuations and completions of the old handler are dropped.</summary>
    private void AbandonPendingAsync()
    {
        _pendingAsync = null;
        _asyncGeneration++;
        _syncContext = null;
    }

    private void HandleAsyncCompleted(AsyncCompleted completed)
    {
        if (completed.Generation != _asyncGeneration || !ReferenceEquals(completed.Task, _pendingAsync))
        {
            return; // the actor restarted or stopped meanwhile
        }

        _pendingAsync = null;
        NoteActivity(_current.Message); // an async handler is done only now
        if (completed.Task.Exception is { } exception)
        {
            HandleInvokeFailure(exception.InnerExceptions.Count == 1 ? exception.InnerException! : exception);
        }
        else if (completed.Task.IsCanceled)
        {
            HandleInvokeFailure(new TaskCanceledException(completed.Task));
        }
        else
        {
            UpdateSuspension();
        }

        _current = default;
    }

    private void HandleContinuation(RunContinuation continuation)
    {
        if (continuation.Generation != _asyncGeneration || _state >= CellState.Terminating)
        {
            return;
        }

        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_syncContext);
        try
        {
            continuation.Callback(continuation.State);
        }
        catch (Exception exception)
        {
            // An async method captures its own exceptions: this is a raw callback posted to the context that threw.
            HandleInvokeFailure(exception);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }
}
