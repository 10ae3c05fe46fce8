using System.Diagnostics;
using System.Threading.Channels;
using Xunit.Abstractions;
using MeshActors.Tests.Mesh;

namespace MeshActors.Tests.Replication;

using MeshActors.TestKit;

/// <summary>docs/protocol.md section 14 is enough to write a replica in another language: samples/DictionaryNodePeer, in Node.js, converges with a .NET replica.</summary>
public sealed class NodeReplicaSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    [Fact]
    public async Task A_Node_js_replica_must_get_the_state_removes_included_write_its_own_keys_and_follow_later_writes()
    {
        var a = await Start("a");
        var atA = await Open<string>(a, "d");
        await atA.SetAsync("from-dotnet", "one");
        await atA.SetAsync("gone", "soon");
        await atA.RemoveAsync("gone");

        await using var peer = NodePeer.Start(Sample(), Output!,
            "--dial", $"{a.Self.Host}:{a.Self.Port}", "--dict", "d", "--set", "from-node=\"two\"", "--expect", "late=\"three\"");

        await peer.WaitForLineAsync("synced keys=2");
        await WaitFor(atA, "from-node", "two");
        await atA.SetAsync("late", "three");
        await peer.WaitForLineAsync("done");
        Assert.Equal(0, await peer.ExitCodeAsync());
        Assert.Contains("removed gone", peer.Lines);
        Assert.Contains("value from-dotnet \"one\"", peer.Lines);
        Assert.Equal(0, atA.Stats.BadMessages + atA.Stats.BadValues);
        Assert.Equal(1, atA.Stats.StatesReceived); // the peer answered the node's pull
    }

    private static string Sample()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var path = Path.Combine(directory.FullName, "samples", "DictionaryNodePeer", "dict_peer.mjs");
            if (File.Exists(path))
                return path;
        }

        throw new FileNotFoundException("samples/DictionaryNodePeer/dict_peer.mjs not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The sample running under <c>node</c>, its output lines kept in order.</summary>
    private sealed class NodePeer : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

        private NodePeer(Process process) => _process = process;

        public List<string> Lines { get; } = [];

        public static NodePeer Start(string script, ITestOutputHelper output, params string[] args)
        {
            var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(script);
            foreach (var arg in args)
                start.ArgumentList.Add(arg);
            var peer = new NodePeer(new Process { StartInfo = start });
            peer._process.OutputDataReceived += (_, line) =>
            {
                if (line.Data is null)
                    return;
                Write(output, "node: " + line.Data);
                lock (peer.Lines)
                    peer.Lines.Add(line.Data);
                peer._lines.Writer.TryWrite(line.Data);
            };
            peer._process.ErrorDataReceived += (_, line) => Write(output, "node stderr: " + line.Data);
            peer._process.Start();
            peer._process.BeginOutputReadLine();
            peer._process.BeginErrorReadLine();
            return peer;
        }

        public async Task WaitForLineAsync(string line)
        {
            using var timeout = new CancellationTokenSource(TestTimeouts.Default);
            while (await _lines.Reader.ReadAsync(timeout.Token) != line)
            {
            }
        }

        public async Task<int> ExitCodeAsync()
        {
            using var timeout = new CancellationTokenSource(TestTimeouts.Default);
            await _process.WaitForExitAsync(timeout.Token);
            return _process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
                _process.Kill();
            await _process.WaitForExitAsync();
            _process.Dispose();
        }

        private static void Write(ITestOutputHelper output, string line)
        {
            try
            {
                output.WriteLine(line);
            }
            catch (InvalidOperationException)
            {
                // The test has finished.
            }
        }
    }
}
