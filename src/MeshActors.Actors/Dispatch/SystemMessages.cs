using MeshActors.Actors.Internal;

namespace MeshActors.Actors.Dispatch;

// The kernel's system messages: each is one line of meaning, so they share this file.

/// <summary>Creates the actor instance and runs <c>PreStart</c>.</summary>
internal sealed class Create : SystemMessage;

/// <summary>Stops the actor: its children first, then <c>PostStop</c>, then watchers and parent are told.</summary>
internal sealed class Terminate : SystemMessage;

/// <summary>The supervisor's order to restart after <see cref="Cause"/>.</summary>
internal sealed class Recreate(Exception cause) : SystemMessage
{
    public Exception Cause { get; } = cause;
}

/// <summary>The supervisor's order to resume after a failure.</summary>
internal sealed class Resume : SystemMessage;

/// <summary>A child's report to its parent that it failed and is waiting for a directive.</summary>
internal sealed class Failed(LocalActorRef child, Exception cause) : SystemMessage
{
    public LocalActorRef Child { get; } = child;

    public Exception Cause { get; } = cause;
}

/// <summary>Asks <see cref="Watchee"/> to tell <see cref="Watcher"/> when it stops.</summary>
internal sealed class Watch(IInternalActorRef watchee, IInternalActorRef watcher) : SystemMessage
{
    public IInternalActorRef Watchee { get; } = watchee;

    public IInternalActorRef Watcher { get; } = watcher;
}

/// <summary>Withdraws a <see cref="Watch"/>.</summary>
internal sealed class Unwatch(IInternalActorRef watchee, IInternalActorRef watcher) : SystemMessage
{
    public IInternalActorRef Watchee { get; } = watchee;

    public IInternalActorRef Watcher { get; } = watcher;
}

/// <summary>Tells a watcher, or the parent, that <see cref="Actor"/> has stopped.</summary>
internal sealed class DeathWatchNotification(IActorRef actor) : SystemMessage
{
    public IActorRef Actor { get; } = actor;
}

/// <summary>The task of a <c>ReceiveAsync</c> handler has completed: the actor may take its next message.</summary>
internal sealed class AsyncCompleted(ActorCell cell, Task task, int generation) : SystemMessage
{
    public ActorCell Cell { get; } = cell;

    public Task Task { get; } = task;

    public int Generation { get; } = generation;
}

/// <summary>A continuation of a <c>ReceiveAsync</c> handler, run on the actor like a message so that it never races the actor.</summary>
internal sealed class RunContinuation(SendOrPostCallback callback, object? state, int generation) : SystemMessage
{
    public SendOrPostCallback Callback { get; } = callback;

    public object? State { get; } = state;

    public int Generation { get; } = generation;
}
