namespace MeshActors.Cli;

/// <summary>The process exit codes of the mesh command.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The command ran and failed: an error, a timeout, no reply, a child process that failed, a command line that does not parse.</summary>
    public const int Failure = 1;

    /// <summary>Stopped by Ctrl+C or SIGTERM before it finished (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;
}
