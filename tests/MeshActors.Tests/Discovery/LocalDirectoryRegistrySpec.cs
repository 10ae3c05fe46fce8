using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MeshActors.Discovery;

namespace MeshActors.Tests.Discovery;

/// <summary>The registry contract on the local directory backend, plus leases, clean-up, and several real processes at once.</summary>
public sealed class LocalDirectoryRegistrySpec : RegistryContract
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "meshactors-spec-" + Guid.NewGuid().ToString("N"));

    protected override string RegistrySetting => "local:" + _root;

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    protected override async Task<byte[]?> ReadRawAsync(string prefix, MeshMember member)
    {
        var path = Path.Combine(_root, prefix, EntryName(prefix, member.Name, member.Id));
        return File.Exists(path) ? await File.ReadAllBytesAsync(path) : null;
    }

    protected override async Task WriteRawAsync(string prefix, string entry, byte[] value)
    {
        var path = Path.Combine(_root, prefix, entry);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, value);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1)); // an entry without a lease lives one TTL past its last write
    }

    protected override string EntryName(string prefix, string name, string id) => id + ".json";

    protected override string ForeignEntryName(string prefix) => "not-a-node-id.json";

    protected override void AssertStoredValue(string expectedRegistration, byte[] stored, DateTimeOffset writtenAfter, DateTimeOffset writtenBefore)
    {
        var text = Encoding.UTF8.GetString(stored);
        var head = expectedRegistration[..^1] + ",\"lease_expires_at\":\"";
        Assert.StartsWith(head, text);
        Assert.EndsWith("\"}", text);
        var lease = DateTimeOffset.Parse(text[head.Length..^2], CultureInfo.InvariantCulture);
        Assert.InRange(lease, writtenAfter + Ttl - TimeSpan.FromMilliseconds(1), writtenBefore + Ttl + TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task Listing_must_delete_entries_expired_for_a_ttl_and_temp_files_left_by_a_dead_writer()
    {
        var registry = NewRegistry();
        var longGone = Guid.NewGuid().ToString();
        var justExpired = Guid.NewGuid().ToString();
        await WriteRawAsync(Prefix, longGone + ".json", Entry(longGone, DateTimeOffset.UtcNow - Ttl * 2));
        await WriteRawAsync(Prefix, justExpired + ".json", Entry(justExpired, DateTimeOffset.UtcNow - TimeSpan.FromMilliseconds(100)));
        var tempFile = Path.Combine(_root, Prefix, $".{Guid.NewGuid()}.0123.tmp");
        await File.WriteAllTextAsync(tempFile, "{\"id\":");
        File.SetLastWriteTimeUtc(tempFile, DateTime.UtcNow - Ttl * 2);

        var listing = await registry.ListAsync();

        Assert.Empty(listing.Members);
        Assert.Empty(listing.Skipped);
        Assert.False(File.Exists(Path.Combine(_root, Prefix, longGone + ".json")), "an entry expired for a TTL is removed");
        Assert.True(File.Exists(Path.Combine(_root, Prefix, justExpired + ".json")), "an entry expired for less than a TTL is left to its owner");
        Assert.False(File.Exists(tempFile), "a temp file older than a TTL is removed");
        Assert.Equal(1, Logs.Count(4006, longGone));
    }

    [Fact]
    public async Task Registry_must_recreate_its_directory_when_someone_deletes_it()
    {
        var registry = NewRegistry();
        var member = NewMember();
        Directory.Delete(Path.Combine(_root, Prefix), recursive: true);

        Assert.Empty((await registry.ListAsync()).Members);
        await registry.RegisterAsync(member);

        Assert.Equal([member.Id], (await registry.ListAsync()).Members.Select(m => m.Id));
    }

    [Fact]
    public async Task Several_processes_must_register_at_once_see_each_other_and_leave_or_crash_cleanly()
    {
        const int processes = 6;
        var observer = NewRegistry();
        var nodes = Enumerable.Range(0, processes).Select(_ => new NodeProcess(RegistrySetting, Prefix)).ToArray();
        try
        {
            await Task.WhenAll(nodes.Select(n => n.WaitForAsync($"sees {processes}", TimeSpan.FromSeconds(60))));
            var ids = nodes.Select(n => n.Id).ToArray();
            Assert.Equal(ids.Order(), (await observer.ListAsync()).Members.Select(m => m.Id).Order());

            nodes[0].Crash();
            await Task.WhenAll(nodes[1..].Select(n => n.WaitForAsync($"sees {processes - 1}", TimeSpan.FromSeconds(15))));

            foreach (var node in nodes[1..])
                node.Leave();
            await Task.WhenAll(nodes[1..].Select(n => n.WaitForExitAsync(TimeSpan.FromSeconds(15))));
            Assert.Empty((await observer.ListAsync()).Members);

            // Every process rewrote its file every 50 ms while the others read them: none ever saw half a file.
            Assert.All(nodes, n => Assert.DoesNotContain(n.Lines, line => line.StartsWith("skipped", StringComparison.Ordinal)));
            Assert.Empty((await observer.ListAsync()).Skipped);
        }
        finally
        {
            foreach (var node in nodes)
                node.Dispose();
        }
    }

    private static byte[] Entry(string id, DateTimeOffset leaseExpiresAt) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["id"] = id,
        ["service_name"] = "orders",
        ["host"] = "127.0.0.1",
        ["port"] = 7001,
        ["lease_expires_at"] = leaseExpiresAt,
    }));

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
