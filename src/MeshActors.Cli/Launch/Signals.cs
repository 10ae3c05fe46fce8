using System.Runtime.InteropServices;

namespace MeshActors.Cli.Launch;

/// <summary>Asks child processes to stop the way a terminal would: SIGTERM (or SIGKILL) to a process or a whole process group, which .NET's Process API cannot send.</summary>
internal static class Signals
{
    private const int SigKill = 9;
    private const int SigTerm = 15;

    /// <summary>ESRCH: the process, or every process of the group, is gone already.</summary>
    private const int NoSuchProcess = 3;

    /// <summary>SIGTERM to <paramref name="target"/>: a pid, or minus a process group id as in kill(2).</summary>
    public static void Terminate(int target) => Send(target, SigTerm);

    /// <summary>SIGKILL to <paramref name="target"/>: a pid, or minus a process group id as in kill(2).</summary>
    public static void Kill(int target) => Send(target, SigKill);

    private static void Send(int target, int signal)
    {
        if (kill(target, signal) != 0 && Marshal.GetLastPInvokeError() is var errno && errno != NoSuchProcess)
            throw new IOException($"kill({target}, {signal}) failed with errno {errno}.");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
