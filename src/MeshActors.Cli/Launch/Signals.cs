using System.Diagnostics;
using System.Runtime.InteropServices;

namespace MeshActors.Cli.Launch;

/// <summary>Asks a child process to stop the way a terminal would: SIGTERM, which .NET's Process API cannot send.</summary>
internal static class Signals
{
    private const int SigTerm = 15;

    public static void Terminate(Process process)
    {
        if (OperatingSystem.IsWindows())
        {
            process.Kill(entireProcessTree: true);
            return;
        }
        if (kill(process.Id, SigTerm) != 0 && !process.HasExited)
            throw new IOException($"kill({process.Id}, SIGTERM) failed with errno {Marshal.GetLastPInvokeError()}.");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
