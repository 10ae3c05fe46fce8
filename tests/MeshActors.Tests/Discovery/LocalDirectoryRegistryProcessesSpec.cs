using System.Collections.Concurrent;
using System.Diagnostics;
using MeshActors.Discovery;

namespace MeshActors.Tests.Discovery;

/// <summary>Runs alone: it starts several real processes at once, which would starve the timing specs running beside it.</summary>
[CollectionDefinition(nameof(ProcessesCollection), DisableParallelization = true)]
public sealed class ProcessesCollection;

/// <summary>The local directory registry shared by several real processes registering, refreshing and listing at once.</summary>
[Collection(nameof(ProcessesCollection))]
public sealed class LocalDirectoryRegistryProcessesSpec : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "meshactors-spec-" + Guid.NewGuid().ToString("N"));
    private readonly string _prefix = "spec-" + Guid.NewGuid().ToString("N")[..8];
    private IRegistry _observer = null!;

    private string RegistrySetting => "local:" + _root;

    public Task InitializeAsync()
    {
        _observer = RegistryFactory.Create(new DiscoveryOptions { Registry = RegistrySetting, KeyPrefix = _prefix });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _observer.DisposeAsync();
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Several_processes_must_register_at_once_see_each_other_and_leave_or_crash_cleanly()
    {
        const int processes = 6;
        var nodes = Enumerable.Range(0, processes).Select(_ => new NodeProcess(RegistrySetting, _prefix)).ToArray();
        try
        {
            await Task.WhenAll(nodes.Select(n => n.WaitForAsync($"sees {processes}", TimeSpan.FromSeconds(60))));
            var ids = nodes.Select(n => n.Id).ToArray();
            Assert.Equal(ids.Order(), (await _observer.ListAsync()).Members.Select(m => m.Id).Order());

            nodes[0].Crash();
            await Task.WhenAll(nodes[1..].Select(n => n.WaitForAsync($"sees {processes - 1}", TimeSpan.FromSeconds(15))));

            foreach (var node in nodes[1..])
                node.Leave();
            await Task.WhenAll(nodes[1..].Select(n => n.WaitForExitAsync(TimeSpan.FromSeconds(15))));
            Assert.Empty((await _observer.ListAsync()).Members);

            // Every process rewrote its file every 50 ms while the others read them: none ever saw half a file.
            Assert.All(nodes, n => Assert.DoesNotContain(n.Lines, line => line.StartsWith("skipped", StringComparison.Ordinal)));
            Assert.Empty((await _observer.ListAsync()).Skipped);
        }
        finally
        {
            foreach (var node in nodes)
                node.Dispose();
        }
    }

    /// <summary>A registry node in a process of its own (MeshActors.Tests.RegistryNode), heartbeating every 50 ms.</summary>
    private sealed class NodeProcess : IDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _lines = new();
        private readonly TaskCompletionSource<string> _id = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public NodeProcess(string registry, string prefix)
        {
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "MeshActors.Tests.RegistryNode.dll"), registry, prefix, "2", "50" })
                start.ArgumentList.Add(argument);
            _process = Process.Start(start)!;
            _process.OutputDataReceived += (_, e) => Record(e.Data);
            _process.ErrorDataReceived += (_, e) => Record(e.Data is null ? null : "stderr " + e.Data);
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public string Id => _id.Task.IsCompletedSuccessfully ? _id.Task.Result : throw new InvalidOperationException("the node has not said its id yet");

        public IReadOnlyCollection<string> Lines => _lines;

        public async Task WaitForAsync(string line, TimeSpan timeout)
        {
            await Eventually.UntilAsync(() => Task.FromResult(_lines.Contains(line) || _process.HasExited), seen => seen, timeout, $"node {_process.Id} prints '{line}'");
            Assert.True(_lines.Contains(line), $"node {_process.Id} exited without printing '{line}': {string.Join(" | ", _lines)}");
        }

        public void Crash() => _process.Kill();

        public void Leave() => _process.StandardInput.Close();

        public async Task WaitForExitAsync(TimeSpan timeout)
        {
            using var deadline = new CancellationTokenSource(Eventually.Scaled(timeout));
            await _process.WaitForExitAsync(deadline.Token);
            Assert.True(_process.ExitCode == 0 && _lines.Contains("left"), $"node exited with {_process.ExitCode}: {string.Join(" | ", _lines)}");
        }

        public void Dispose()
        {
            if (!_process.HasExited)
                _process.Kill();
            _process.Dispose();
        }

        private void Record(string? line)
        {
            if (line is null)
                return;
            _lines.Enqueue(line);
            if (line.StartsWith("id ", StringComparison.Ordinal))
                _id.TrySetResult(line[3..]);
        }
    }
}
