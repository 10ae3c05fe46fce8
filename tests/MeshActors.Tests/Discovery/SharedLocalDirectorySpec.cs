using System.Collections.Concurrent;
using System.Diagnostics;

namespace MeshActors.Tests.Discovery;

using MeshActors.TestKit;

/// <summary>
/// The default local registry directory, shared by the machine's users (docs/discovery.md), in a real process of its
/// own whose temp directory (TMPDIR) is private to the spec.
/// </summary>
[Collection(nameof(ProcessesCollection))]
public sealed class SharedLocalDirectorySpec : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("meshactors-shared-spec-");

    public void Dispose() => _temp.Delete(recursive: true);

    /// <summary>
    /// docs/discovery.md: the default directory is "made by its first node sticky and writable by every user, as /tmp
    /// is". The registry copes with a directory wiped under live nodes (their next heartbeat writes their entries
    /// again), and the node that writes first must make it again as it was: made as the umask narrows it (0755), it
    /// would let no other user's nodes register, which is what sharing it is for.
    /// </summary>
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_default_local_directory_must_stay_shared_by_the_machines_users_when_a_node_makes_it_again_after_a_wipe()
    {
        var root = Path.Combine(_temp.FullName, "meshactors");
        var prefix = "spec-" + Guid.NewGuid().ToString("N")[..8];
        var directory = Path.Combine(root, prefix);
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "MeshActors.Tests.RegistryNode.dll"), "local", prefix, "2", "50" })
            start.ArgumentList.Add(argument);
        start.Environment["TMPDIR"] = _temp.FullName;
        using var process = Process.Start(start)!;
        var lines = new ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is { } line) lines.Enqueue(line); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) lines.Enqueue("stderr " + line); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var id = await Eventually.UntilAsync(
                () => Task.FromResult(lines.FirstOrDefault(line => line.StartsWith("id ", StringComparison.Ordinal))?[3..]),
                value => value is not null && File.Exists(Path.Combine(directory, value + ".json")) || process.HasExited,
                TestTimeouts.Default, "the node registers in the default directory");
            Assert.True(!process.HasExited && id is not null, string.Join(" | ", lines));
            AssertShared(root, "as its first node made it");

            // Wiped under the live node (a clean-up of the temp directory, a user's rm -rf): retried while the node
            // writes into it at the same time.
            await Eventually.UntilAsync(() =>
            {
                try
                {
                    Directory.Delete(root, recursive: true);
                }
                catch (Exception ex) when (ex is IOException or DirectoryNotFoundException)
                {
                }

                return Task.FromResult(!Directory.Exists(root));
            }, gone => gone, TestTimeouts.Default, "the default directory is wiped");
            await Eventually.UntilAsync(() => Task.FromResult(File.Exists(Path.Combine(directory, id + ".json")) || process.HasExited), seen => seen,
                TestTimeouts.Default, "the node writes its entry again at its next heartbeat");
            Assert.False(process.HasExited, string.Join(" | ", lines));

            AssertShared(root, "as the node made it again after the wipe");
            AssertShared(directory, "as the node made it again after the wipe");
        }
        finally
        {
            if (!process.HasExited)
                process.Kill();
        }
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void AssertShared(string directory, string when)
    {
        var mode = File.GetUnixFileMode(directory);
        Assert.True(mode.HasFlag(UnixFileMode.OtherWrite) && mode.HasFlag(UnixFileMode.StickyBit),
            $"{directory}, {when}, is {mode}: not writable by the machine's other users and sticky, as a temp directory is");
    }
}
