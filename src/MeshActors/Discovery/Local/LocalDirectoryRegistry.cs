using Microsoft.Extensions.Logging;

namespace MeshActors.Discovery.Local;

/// <summary>
/// The embedded registry: one file <c>{node id}.json</c> per node in a directory shared by the processes of one
/// machine, holding the Redis value plus a <c>lease_expires_at</c> that plays the TTL.
/// </summary>
/// <remarks>
/// A file is written to a temporary name and renamed over the old one, so a reader sees the old registration or
/// the new one, never half of one, however many processes write at once. An entry lives until its lease, at most
/// one TTL after its last write (a lease far ahead must not keep a dead node listed); one without a lease (written
/// by hand or by a third party) lives for one TTL after its last write. Expired entries are ignored and, one TTL
/// later, deleted by whichever node lists them; so are temporary files left by a process that died mid-write.
/// File I/O runs on the thread pool and each call fails after <see cref="DiscoveryOptions.CommandTimeout"/>, so a
/// hung file system cannot hold the caller; files that are empty or not regular (a FIFO) are never opened.
/// Joins and leaves are announced by a <see cref="FileSystemWatcher"/>: a join by the entry's write (a refresh is
/// a rewrite, so it is announced too, and listeners treat announcements as hints), a leave by an empty
/// <c>{node id}.leaving</c> marker created before the entry is deleted, so that peers hear of the leave before
/// a listing can miss the entry.
/// </remarks>
internal sealed class LocalDirectoryRegistry : IRegistry
{
    private const string EntryExtension = ".json";
    private const string TempExtension = ".tmp";
    private const string LeavingExtension = ".leaving";

    private readonly DiscoveryOptions _options;
    private readonly string _directory;
    private readonly string? _shared; // the machine's default root, when this registry is in it

    private const UnixFileMode ReadableByAll = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private readonly ILogger _logger;
    private readonly SkippedEntryLog _skipped;
    private FileSystemWatcher? _watcher;
    private string? _written; // the node whose entry this registry wrote last, until it deregisters

    public LocalDirectoryRegistry(DiscoveryOptions options, string root, ILogger logger)
    {
        _options = options;
        _directory = Path.GetFullPath(Path.Combine(root, options.KeyPrefix));
        _logger = logger;
        _skipped = new SkippedEntryLog(logger);
        _shared = Path.GetFullPath(root) == Path.GetFullPath(DiscoveryOptions.LocalDirectory) ? Path.GetFullPath(root) : null;
        CreateDirectory();
        Description = $"local {_directory}";
        _watcher = Watch();
    }

    public string Description { get; }

    // The default directory is the machine's, as /tmp is: every user's nodes register in it (made sticky, so that none
    // can replace or delete another's entries). Made so by whoever creates it, also again after a wipe.
    private void CreateDirectory()
    {
        if (_shared is not null && !OperatingSystem.IsWindows())
        {
            CreateShared(_shared);
            CreateShared(_directory);
        }

        Directory.CreateDirectory(_directory);
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void CreateShared(string path)
    {
        const UnixFileMode Shared = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute | UnixFileMode.StickyBit;
        if (Directory.Exists(path))
            return;
        Directory.CreateDirectory(path);
        try
        {
            File.SetUnixFileMode(path, Shared); // after the umask narrowed it
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Created by another user's node meanwhile: theirs is as good.
        }
    }

    public RegistryConnectionState ConnectionState => RegistryConnectionState.Connected;

    // A directory on this machine is always reachable, so the state never changes; failures are reported per call.
    public event Action<RegistryConnectionState>? ConnectionStateChanged
    {
        add { }
        remove { }
    }

    public event Action<RegistryChange>? Changed;

    public Task RegisterAsync(MeshMember self, CancellationToken cancellationToken = default) => WriteAsync(self, cancellationToken);

    public async Task<bool> RefreshAsync(MeshMember self, CancellationToken cancellationToken = default) =>
        !await WriteAsync(self, cancellationToken).ConfigureAwait(false);

    public Task DeregisterAsync(MeshMember self, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(self);
        // The id names files: anything but a UUID (a "../" in it) could reach outside the directory.
        if (!Guid.TryParseExact(self.Id, "D", out _))
            throw new ArgumentException($"A node id is a UUID, not '{self.Id}'.", nameof(self));
        var marker = Path.Combine(_directory, self.Id + LeavingExtension);
        return RunAsync("deregister", () =>
        {
            Interlocked.CompareExchange(ref _written, null, self.Id);
            File.WriteAllBytes(marker, []);
            File.Delete(EntryPath(self.Id));
            File.Delete(marker);
            return true;
        }, cancellationToken);
    }

    public Task<RegistryListing> ListAsync(CancellationToken cancellationToken = default) => RunAsync("list", List, cancellationToken);

    private RegistryListing List()
    {
        var now = DateTimeOffset.UtcNow;
        var members = new List<MeshMember>();
        var skipped = new List<SkippedEntry>();
        foreach (var path in Directory.Exists(_directory) ? Directory.GetFiles(_directory) : [])
        {
            var fileName = Path.GetFileName(path);
            if (fileName.EndsWith(TempExtension, StringComparison.Ordinal) || fileName.EndsWith(LeavingExtension, StringComparison.Ordinal))
            {
                RemoveLeftOver(path, now); // left by a process that died while writing or leaving
                continue;
            }

            if (!fileName.EndsWith(EntryExtension, StringComparison.Ordinal))
                continue;

            var id = fileName[..^EntryExtension.Length];
            if (!Guid.TryParseExact(id, "D", out _))
            {
                skipped.Add(new SkippedEntry(path, "file name is not '{node id}.json' (a UUID)"));
                continue;
            }

            switch (ReadEntry(path, id, now))
            {
                case (MeshMember member, _, _):
                    members.Add(member);
                    break;
                case (null, string error, _):
                    skipped.Add(new SkippedEntry(path, error));
                    break;
                case (null, null, DateTimeOffset expiredAt) when now - expiredAt >= _options.Ttl:
                    RemoveExpiredEntry(path, id, expiredAt);
                    break;
            }
        }

        _skipped.Listed(skipped);
        return new RegistryListing(members, skipped);
    }

    public ValueTask DisposeAsync()
    {
        Interlocked.Exchange(ref _watcher, null)?.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Writes the entry; true when it had been written before and was gone (see <see cref="OnEntryLost"/>).</summary>
    private Task<bool> WriteAsync(MeshMember self, CancellationToken cancellationToken)
    {
        var value = RegistrationCodec.EncodeRegistration(self, _options.MaxRegistrationBytes, DateTimeOffset.UtcNow + _options.Ttl);
        var temp = Path.Combine(_directory, $".{self.Id}.{Guid.NewGuid():N}{TempExtension}");
        return RunAsync("register", () =>
        {
            try
            {
                // Gone without a deregistration: someone wiped the directory (or cleaned up after a node stalled for two TTLs).
                var lost = Volatile.Read(ref _written) == self.Id && !File.Exists(EntryPath(self.Id));
                CreateDirectory();
                if (lost)
                    OnEntryLost(self.Id);

                try
                {
                    Write();
                }
                catch (DirectoryNotFoundException)
                {
                    // Wiped again between making it and writing into it: made once more, as the wipe it is.
                    CreateDirectory();
                    Write();
                }

                Volatile.Write(ref _written, self.Id);
                return lost;
            }
            catch
            {
                try
                {
                    File.Delete(temp);
                }
                catch (IOException)
                {
                    // Its directory is gone with it: the write's own failure is what counts.
                }

                throw;
            }

            void Write()
            {
                File.WriteAllBytes(temp, value);
                if (_shared is not null && !OperatingSystem.IsWindows())
                    File.SetUnixFileMode(temp, ReadableByAll); // other users' nodes list it, whatever this process's umask
                File.Move(temp, EntryPath(self.Id), overwrite: true);
            }
        }, cancellationToken);
    }

    /// <summary>A live member; or the reason the entry is garbage; or, for an expired entry, when it expired. Null everywhere when the file vanished.</summary>
    private (MeshMember? Member, string? Error, DateTimeOffset? ExpiredAt) ReadEntry(string path, string id, DateTimeOffset now)
    {
        byte[] value;
        DateTime lastWrite;
        try
        {
            // Opening a FIFO blocks until someone writes to it, and a device may never end: anything that is not a
            // regular file reports size 0, and an empty file cannot be a registration anyway, so it is never opened.
            // A symbolic link reports its own size, so what it ends at is measured instead.
            var info = new FileInfo(path);
            if (info.LinkTarget is not null)
                info = (FileInfo?)File.ResolveLinkTarget(path, returnFinalTarget: true) ?? info;
            if (info.Length == 0)
                return (null, "file is empty or not a regular file (a FIFO, a device), so not JSON", null);
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
            if (file.Length > _options.MaxRegistrationBytes)
                return (null, $"file is {file.Length} bytes, over the {_options.MaxRegistrationBytes}-byte cap", null);
            lastWrite = File.GetLastWriteTimeUtc(file.SafeFileHandle);
            value = new byte[file.Length];
            file.ReadExactly(value);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return default; // deregistered or cleaned up while we listed
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, $"cannot be read ({ex.Message})", null);
        }

        if (!RegistrationCodec.TryDecodeEntry(value, _options.MaxRegistrationBytes, keyName: null, id, out var member, out var lease, out var error))
            return (null, error, null);

        // A lease counts from the file's last write, at most one TTL: a lease set far ahead (by hand, by a third party,
        // by a clock that was wrong) would otherwise keep a dead node a member for as long as it says.
        var writtenUntil = new DateTimeOffset(lastWrite, TimeSpan.Zero) + _options.Ttl;
        var expiresAt = lease is { } leased && leased < writtenUntil ? leased : writtenUntil;
        return expiresAt > now ? (member, null, null) : (null, null, expiresAt);
    }

    private void RemoveExpiredEntry(string path, string id, DateTimeOffset expiredAt)
    {
        // One TTL of grace: an owner that is merely slow has rewritten its file long before this.
        if (TryDelete(path))
            DiscoveryLog.RemovedExpiredEntry(_logger, path, id, expiredAt);
    }

    private void RemoveLeftOver(string path, DateTimeOffset now)
    {
        if (now - File.GetLastWriteTimeUtc(path) >= _options.Ttl)
            TryDelete(path);
    }

    private static bool TryDelete(string path)
    {
        try
        {
            if (!File.Exists(path))
                return false;
            File.Delete(path);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false; // another node got there first, or it is not ours to delete; the next listing retries
        }
    }

    private string EntryPath(string id) => Path.Combine(_directory, id + EntryExtension);

    private T Run<T>(string operation, Func<T> io)
    {
        try
        {
            return io();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RegistryUnavailableException($"Registry {Description}: {operation} failed: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Runs file I/O off the caller's thread, bounded by <see cref="DiscoveryOptions.CommandTimeout"/> like a Redis call:
    /// a hung file system must not hold the registry actor. The thread that hangs is left to finish on its own.
    /// </summary>
    private async Task<T> RunAsync<T>(string operation, Func<T> io, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var work = Task.Run(() => Run(operation, io), CancellationToken.None);
        try
        {
            return await work.WaitAsync(_options.CommandTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException && !work.IsCompleted)
        {
            _ = work.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            if (ex is OperationCanceledException)
                throw;
            throw new RegistryUnavailableException($"Registry {Description}: {operation} did not finish within {_options.CommandTimeout.TotalSeconds:0.###} s (the file system hangs?)", ex);
        }
    }

    /// <summary>
    /// The other nodes' entries went with this one's: they write them again at their next heartbeat, and until then a
    /// listing must not take them for dead (the registry actor learns it from the refresh). A watcher of a deleted
    /// directory hears nothing more, so it is made again.
    /// </summary>
    private void OnEntryLost(string id)
    {
        DiscoveryLog.EntryLost(_logger, Description, id, "the directory wiped, or this node stalled past its TTL?");
        Interlocked.Exchange(ref _watcher, Watch())?.Dispose();
    }

    private FileSystemWatcher? Watch()
    {
        try
        {
            var watcher = new FileSystemWatcher(_directory)
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite,
                IncludeSubdirectories = false,
            };
            watcher.Created += (_, e) => Announce(e.FullPath);
            watcher.Changed += (_, e) => Announce(e.FullPath);
            watcher.Renamed += (_, e) => Announce(e.FullPath);
            watcher.Deleted += (_, e) => Announce(e.FullPath, deleted: true);
            watcher.Error += (_, e) => DiscoveryLog.ChangeFeedUnavailable(_logger, Description, e.GetException().Message);
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or PlatformNotSupportedException)
        {
            // e.g. the inotify instance limit: reconciliation at each heartbeat still finds every change.
            DiscoveryLog.ChangeFeedUnavailable(_logger, Description, ex.Message);
            return null;
        }
    }

    private void Announce(string path, bool deleted = false)
    {
        var fileName = Path.GetFileName(path);
        var extension = Path.GetExtension(fileName);
        var id = Path.GetFileNameWithoutExtension(fileName);
        if (!Guid.TryParseExact(id, "D", out _))
            return;

        RegistryChange? change = extension switch
        {
            LeavingExtension when !deleted => new MemberDeregistered(id),
            // A bare deletion is not a leave: the directory may have been wiped under live nodes, which write again at
            // their next heartbeat; a dead node's entry is missed by the next listing.
            EntryExtension when deleted => null,
            // Garbage and expired entries are not announced; the next listing reports them once.
            EntryExtension => ReadEntry(path, id, DateTimeOffset.UtcNow).Member is { } member ? new MemberRegistered(member) : null,
            _ => null,
        };
        if (change is null)
            return;

        try
        {
            Changed?.Invoke(change);
        }
        catch (Exception ex)
        {
            DiscoveryLog.HandlerFailed(_logger, Description, ex);
        }
    }
}
