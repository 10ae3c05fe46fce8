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

    protected override void AssertStoredValue(string expectedRegistration, byte[] stored, TimeSpan ttl, DateTimeOffset writtenAfter, DateTimeOffset writtenBefore)
    {
        var text = Encoding.UTF8.GetString(stored);
        var head = expectedRegistration[..^1] + ",\"lease_expires_at\":\"";
        Assert.StartsWith(head, text);
        Assert.EndsWith("\"}", text);
        var lease = DateTimeOffset.Parse(text[head.Length..^2], CultureInfo.InvariantCulture);
        Assert.InRange(lease, writtenAfter + ttl - TimeSpan.FromMilliseconds(1), writtenBefore + ttl + TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task Listing_must_delete_entries_expired_for_a_ttl_and_temp_files_left_by_a_dead_writer()
    {
        var ttl = TimeSpan.FromSeconds(10);
        var registry = NewRegistry(ttl: ttl);
        var longGone = Guid.NewGuid().ToString();
        var justExpired = Guid.NewGuid().ToString();
        await WriteRawAsync(Prefix, longGone + ".json", Entry(longGone, DateTimeOffset.UtcNow - ttl * 2));
        await WriteRawAsync(Prefix, justExpired + ".json", Entry(justExpired, DateTimeOffset.UtcNow - TimeSpan.FromMilliseconds(100)));
        var tempFile = Path.Combine(_root, Prefix, $".{Guid.NewGuid()}.0123.tmp");
        var leaveMarker = Path.Combine(_root, Prefix, $"{Guid.NewGuid()}.leaving");
        foreach (var leftOver in new[] { tempFile, leaveMarker })
        {
            await File.WriteAllTextAsync(leftOver, "{\"id\":");
            File.SetLastWriteTimeUtc(leftOver, DateTime.UtcNow - ttl * 2);
        }

        var listing = await registry.ListAsync();

        Assert.Empty(listing.Members);
        Assert.Empty(listing.Skipped);
        Assert.False(File.Exists(Path.Combine(_root, Prefix, longGone + ".json")), "an entry expired for a TTL is removed");
        Assert.True(File.Exists(Path.Combine(_root, Prefix, justExpired + ".json")), "an entry expired for less than a TTL is left to its owner");
        Assert.False(File.Exists(tempFile), "a temp file older than a TTL is removed");
        Assert.False(File.Exists(leaveMarker), "a leave marker older than a TTL is removed");
        Assert.Equal(1, Logs.Count(7006, longGone));
    }

    [Fact]
    public async Task A_lease_must_keep_an_entry_live_at_most_one_ttl_after_its_files_last_write()
    {
        var registry = NewRegistry(ttl: TimeSpan.FromSeconds(10));
        var id = Guid.NewGuid().ToString();
        var path = Path.Combine(_root, Prefix, id + ".json");
        await WriteRawAsync(Prefix, id + ".json", Entry(id, new DateTimeOffset(9999, 12, 31, 0, 0, 0, TimeSpan.Zero)));
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddDays(-30)); // its owner died a month ago

        var listing = await registry.ListAsync();

        Assert.Empty(listing.Members);
        Assert.Empty(listing.Skipped);
        Assert.False(File.Exists(path), "an entry expired for a TTL is removed, whatever its lease says");
    }

    [Fact]
    public async Task Listing_must_skip_a_fifo_named_like_an_entry_without_opening_it()
    {
        var registry = NewRegistry();
        var valid = NewMember();
        await registry.RegisterAsync(valid);
        var fifo = MakeFifo(Guid.NewGuid() + ".json");

        try
        {
            // Off the test's thread: opening a FIFO blocks until someone writes to it.
            var listing = await Task.Run(() => registry.ListAsync()).WaitAsync(Eventually.Scaled(TimeSpan.FromSeconds(5)));

            Assert.Equal([valid.Id], listing.Members.Select(m => m.Id));
            Assert.Contains("not a regular file", Assert.Single(listing.Skipped).Reason);
        }
        finally
        {
            Release(fifo);
        }
    }

    [Fact]
    public async Task A_call_must_fail_within_the_command_timeout_when_the_file_system_hangs()
    {
        var commandTimeout = TimeSpan.FromMilliseconds(500);
        await using var registry = RegistryFactory.Create(Options() with { CommandTimeout = commandTimeout }, Logs);
        var member = NewMember();
        await registry.RegisterAsync(member);
        // Writing the leave marker opens a FIFO for writing, which blocks until someone reads: I/O that never ends.
        var fifo = MakeFifo(member.Id + ".leaving");

        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var call = Task.Run(() => registry.DeregisterAsync(member));

            await Assert.ThrowsAsync<RegistryUnavailableException>(() => call.WaitAsync(Eventually.Scaled(TimeSpan.FromSeconds(5))));
            Assert.True(clock.Elapsed < commandTimeout + Eventually.Scaled(TimeSpan.FromSeconds(1)), $"the call failed after {clock.Elapsed}");
        }
        finally
        {
            Release(fifo);
        }
    }

    private string MakeFifo(string name)
    {
        var path = Path.Combine(_root, Prefix, name);
        using var mkfifo = System.Diagnostics.Process.Start("mkfifo", path);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        return path;
    }

    /// <summary>Opened for reading and writing (which never blocks on Linux), a FIFO lets go of whoever waits on it.</summary>
    private static void Release(string fifo)
    {
        using (new FileStream(fifo, FileMode.Open, FileAccess.ReadWrite))
        {
        }

        File.Delete(fifo);
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

    private static byte[] Entry(string id, DateTimeOffset leaseExpiresAt) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["id"] = id,
        ["service_name"] = "orders",
        ["host"] = "127.0.0.1",
        ["port"] = 7001,
        ["lease_expires_at"] = leaseExpiresAt,
    }));
}
