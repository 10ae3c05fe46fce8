namespace MeshActors.Cli;

/// <summary>Waiting for Ctrl+C or SIGTERM as an ordinary outcome rather than an exception.</summary>
internal static class CancellationTokenExtensions
{
    /// <summary>Completes (successfully) when <paramref name="cancellationToken"/> is cancelled.</summary>
    public static Task WhenCancelled(this CancellationToken cancellationToken)
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cancellationToken.Register(static state => ((TaskCompletionSource)state!).TrySetResult(), cancelled);
        return cancelled.Task;
    }
}
