using System.Text;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace MeshActors.Discovery.Redis;

/// <summary>
/// The Marketrix registry in Redis: <c>SET {prefix}:service:{name}:{id} {json} EX {ttl}</c>, refreshed by heartbeats,
/// listed with <c>SCAN MATCH {prefix}:service:*</c> and one batch of GETs, joins (after the SET) and leaves
/// (before the DEL) announced on <c>{prefix}:events</c>.
/// </summary>
/// <remarks>
/// StackExchange.Redis stays inside this class. The client connects in the background and reconnects by itself;
/// while Redis is away every call fails within <see cref="DiscoveryOptions.CommandTimeout"/> with
/// <see cref="RegistryUnavailableException"/>, and the caller retries.
/// </remarks>
internal sealed class RedisRegistry : IRegistry
{
    // Keys examined per SCAN round trip: a mesh of thousands lists in a few round trips without blocking Redis.
    private const int ScanPageSize = 1000;
    private const int UnknownState = -1;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly DiscoveryOptions _options;
    private readonly ConfigurationOptions _configuration;
    private readonly ILogger _logger;
    private readonly SkippedEntryLog _skipped;
    private readonly Lock _announcing = new();
    private Task _lastAnnouncement = Task.CompletedTask; // on a database other than 0, announcements wait their turn
    private readonly string _pattern;
    private readonly RedisChannel _channel;
    private readonly long _ttlSeconds;
    private readonly Lock _connectGate = new();
    private Task<ConnectionMultiplexer> _connecting;
    private int _state = UnknownState;
    private int _subscribing;
    private volatile bool _subscribed;
    private bool _feedUnavailable; // warned about; read and written only by the one SubscribeAsync running at a time
    private bool _handlerAdded;
    private volatile bool _disposed;

    public RedisRegistry(DiscoveryOptions options, ConfigurationOptions configuration, ILogger logger)
    {
        _options = options;
        _configuration = configuration;
        _logger = logger;
        _skipped = new SkippedEntryLog(logger);
        _pattern = RegistryKey.Pattern(options.KeyPrefix);
        _channel = new RedisChannel(RegistryKey.EventsChannel(options.KeyPrefix), RedisChannel.PatternMode.Literal);
        _ttlSeconds = (long)options.Ttl.TotalSeconds;
        Description = $"redis {RedisConnectionString.Describe(configuration)} prefix {options.KeyPrefix}";
        _connecting = ConnectAsync();
    }

    public string Description { get; }

    public RegistryConnectionState ConnectionState =>
        Volatile.Read(ref _state) == (int)RegistryConnectionState.Connected ? RegistryConnectionState.Connected : RegistryConnectionState.Disconnected;

    public event Action<RegistryConnectionState>? ConnectionStateChanged;

    public event Action<RegistryChange>? Changed;

    public Task RegisterAsync(MeshMember self, CancellationToken cancellationToken = default)
    {
        var (key, value) = Entry(self);
        return ExecuteAsync("register", async db =>
        {
            await db.ExecuteAsync("SET", key, value, "EX", _ttlSeconds).ConfigureAwait(false);
            return await db.PublishAsync(_channel, RedisAnnouncement.Join(value)).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <remarks><c>SET ... XX</c> writes only over the key, so that a key gone without a deregistration is noticed.</remarks>
    public async Task<bool> RefreshAsync(MeshMember self, CancellationToken cancellationToken = default)
    {
        var (key, value) = Entry(self);
        var refreshed = await ExecuteAsync("refresh", db => db.ExecuteAsync("SET", key, value, "EX", _ttlSeconds, "XX"), cancellationToken).ConfigureAwait(false);
        if (!refreshed.IsNull)
            return true;

        await RegisterAsync(self, cancellationToken).ConfigureAwait(false);
        DiscoveryLog.EntryLost(_logger, Description, self.Id, "the keyspace flushed, or this node stalled past its TTL?");
        return false;
    }

    public Task DeregisterAsync(MeshMember self, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(self);
        var key = RegistryKey.Format(_options.KeyPrefix, self.Name, self.Id);
        // Announce first: a peer that lists between the DEL and the announcement would otherwise take the node
        // for expired; announced first, the peer ignores the key for as long as it may still be listed.
        return ExecuteAsync("deregister", async db =>
        {
            await db.PublishAsync(_channel, RedisAnnouncement.Leave(self)).ConfigureAwait(false);
            return await db.KeyDeleteAsync(key).ConfigureAwait(false);
        }, cancellationToken);
    }

    public async Task<RegistryListing> ListAsync(CancellationToken cancellationToken = default)
    {
        // SCAN may return a key twice; each page is its own bounded call so a big keyspace never trips the timeout.
        // Keys stay bytes until they are parsed: a key that is not UTF-8, read as a string, would be fetched under
        // another name (its bad bytes replaced) and vanish without a word instead of being skipped as garbage.
        var keys = new HashSet<RedisKey>();
        long cursor = 0;
        do
        {
            var page = (RedisResult[])(await ExecuteAsync("scan", db => db.ExecuteAsync("SCAN", cursor, "MATCH", _pattern, "COUNT", ScanPageSize), cancellationToken).ConfigureAwait(false))!;
            cursor = long.Parse((string)page[0]!, System.Globalization.CultureInfo.InvariantCulture);
            foreach (var key in (RedisKey[])page[1]!)
                keys.Add(key);
        }
        while (cursor != 0);

        var entries = await ExecuteAsync("get", db => GetAllAsync(db, keys, _options.MaxRegistrationBytes), cancellationToken).ConfigureAwait(false);
        var members = new List<MeshMember>(entries.Length);
        var skipped = new List<SkippedEntry>();
        foreach (var (rawKey, value, error) in entries)
        {
            var key = KeyText(rawKey, out var keyIsText);
            if (error is not null)
                skipped.Add(new SkippedEntry(key, error));
            else if (value is null)
                continue; // expired between SCAN and GET
            else if (!keyIsText)
                skipped.Add(new SkippedEntry(key, "key is not valid UTF-8"));
            else if (!RegistryKey.TryParse(_options.KeyPrefix, key, out var name, out var id, out var keyError))
                skipped.Add(new SkippedEntry(key, keyError));
            else if (RegistrationCodec.TryDecodeEntry(value, _options.MaxRegistrationBytes, name, id, out var member, out _, out var valueError))
                members.Add(member);
            else
                skipped.Add(new SkippedEntry(key, valueError));
        }

        _skipped.Listed(skipped);
        return new RegistryListing(members, skipped);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        Task<ConnectionMultiplexer> connecting;
        lock (_connectGate)
            connecting = _connecting;

        try
        {
            var connection = await connecting.WaitAsync(_options.CommandTimeout).ConfigureAwait(false);
            await connection.CloseAsync(allowCommandsToComplete: true).WaitAsync(_options.CommandTimeout).ConfigureAwait(false);
            connection.Dispose();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Redis is away or slow: drop the connection without waiting, once it exists.
            _ = connecting.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }
    }

    private (RedisKey Key, byte[] Value) Entry(MeshMember self) =>
        (RegistryKey.Format(_options.KeyPrefix, self.Name, self.Id), RegistrationCodec.EncodeRegistration(self, _options.MaxRegistrationBytes));

    /// <summary>The key as text; when it is not UTF-8, a printable stand-in (bad bytes as U+FFFD) for the log.</summary>
    private static string KeyText(byte[] key, out bool valid)
    {
        try
        {
            valid = true;
            return StrictUtf8.GetString(key);
        }
        catch (DecoderFallbackException)
        {
            valid = false;
            return Encoding.UTF8.GetString(key);
        }
    }

    private static async Task<(byte[] Key, byte[]? Value, string? Error)[]> GetAllAsync(IDatabase db, HashSet<RedisKey> keys, int cap)
    {
        // One batch (a single round trip) of each key's length and first cap + 1 bytes: a value over the cap is never
        // downloaded (a stray 512 MB string would hold the connection past every timeout, and fail every listing).
        // Unlike MGET, a key holding a hash or a set fails alone with WRONGTYPE, so it can be named and skipped.
        var batch = db.CreateBatch();
        var reads = keys.Select(key => (Key: key, Length: batch.StringLengthAsync(key), Head: batch.StringGetRangeAsync(key, 0, cap))).ToArray();
        batch.Execute();
        var entries = new (byte[], byte[]?, string?)[reads.Length];
        for (var i = 0; i < reads.Length; i++)
        {
            var (key, length, head) = reads[i];
            try
            {
                var bytes = await length.ConfigureAwait(false);
                var value = (byte[]?)await head.ConfigureAwait(false) ?? [];
                entries[i] = bytes > cap ? (key, null, $"value is {bytes} bytes, over the {cap}-byte cap")
                    : bytes == 0 && !await db.KeyExistsAsync(key).ConfigureAwait(false) ? (key, null, null) // expired since the SCAN
                    : (key, value, null);
            }
            catch (RedisServerException ex)
            {
                entries[i] = (key, null, $"not a string value ({ex.Message})");
            }
        }

        return entries;
    }

    private async Task<T> ExecuteAsync<T>(string operation, Func<IDatabase, Task<T>> command, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            var connection = await Connection().WaitAsync(_options.CommandTimeout, cancellationToken).ConfigureAwait(false);
            if (!_subscribed)
                _ = SubscribeAsync(connection);
            var result = await Observed(command(connection.GetDatabase())).WaitAsync(_options.CommandTimeout, cancellationToken).ConfigureAwait(false);
            SetStateIfUnknown(RegistryConnectionState.Connected, null);
            return result;
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException or TimeoutException)
        {
            SetStateIfUnknown(RegistryConnectionState.Disconnected, ex.Message);
            throw new RegistryUnavailableException($"Registry {Description}: {operation} failed: {ex.Message}", ex);
        }
        catch (RedisException ex)
        {
            // Redis answered with an error (NOAUTH, READONLY, OOM...): reachable, but unusable until someone fixes it.
            throw new RegistryUnavailableException($"Registry {Description}: {operation} failed: {ex.Message}", ex);
        }
    }

    private Task<ConnectionMultiplexer> Connection()
    {
        lock (_connectGate)
        {
            // With abortConnect=false the connect completes even while Redis is down; a fault means something else broke.
            if (_connecting.IsFaulted)
                _connecting = ConnectAsync();
            return _connecting;
        }
    }

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(_configuration).ConfigureAwait(false);
        connection.ConnectionFailed += OnConnectionFailed;
        connection.ConnectionRestored += OnConnectionRestored;
        if (connection.IsConnected)
            SetState(RegistryConnectionState.Connected, null);
        else
            SetState(RegistryConnectionState.Disconnected, "no connection could be made");

        // Before the first call completes, so that once a node has registered it also hears the others.
        await SubscribeAsync(connection).ConfigureAwait(false);
        return connection;
    }

    private async Task SubscribeAsync(ConnectionMultiplexer connection)
    {
        if (Interlocked.Exchange(ref _subscribing, 1) == 1)
            return;
        try
        {
            // The client re-subscribes by itself after a reconnect; this only has to succeed once. The handler is
            // added once: a second SubscribeAsync would add it again, and every announcement would be raised twice.
            var subscriber = connection.GetSubscriber();
            if (!_handlerAdded)
            {
                _handlerAdded = true;
                await subscriber.SubscribeAsync(_channel, OnAnnouncement).WaitAsync(_options.CommandTimeout).ConfigureAwait(false);
            }

            using var deadline = new CancellationTokenSource(_options.CommandTimeout);
            await WhenListeningAsync(subscriber, _channel, deadline.Token).ConfigureAwait(false);
            _subscribed = true;
            if (_feedUnavailable)
            {
                _feedUnavailable = false;
                DiscoveryLog.ChangeFeedListening(_logger, Description);
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException)
        {
            if (_disposed)
                return; // closed meanwhile: nobody listens any more, and the log may already be closed too (a CLI's last line is its error)

            // Every call retries while Redis is down: one warning for the outage, the retries at debug level.
            var reason = ex is OperationCanceledException ? $"not subscribed within {_options.CommandTimeout.TotalSeconds:0.#} s" : ex.Message;
            if (_feedUnavailable)
            {
                DiscoveryLog.ChangeFeedStillUnavailable(_logger, Description, reason);
            }
            else
            {
                _feedUnavailable = true;
                DiscoveryLog.ChangeFeedUnavailable(_logger, Description, reason);
            }
        }
        finally
        {
            Volatile.Write(ref _subscribing, 0);
        }
    }

    // StackExchange.Redis 1.2.6 completes SubscribeAsync at once, without subscribing, while its subscription
    // connection is not up yet, and subscribes by itself once it is. So: wait until the channel has a server, then
    // for one round trip on that connection, which the server answers only after the SUBSCRIBE queued before it.
    private static async Task WhenListeningAsync(ISubscriber subscriber, RedisChannel channel, CancellationToken cancellationToken)
    {
        while (subscriber.SubscribedEndpoint(channel) is null)
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        await subscriber.PingAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private void OnAnnouncement(RedisChannel channel, RedisValue message)
    {
        if (!RedisAnnouncement.TryRead((byte[])message!, _options.MaxRegistrationBytes, out var change, out var error))
        {
            _skipped.BadAnnouncement(channel!, error);
            return;
        }

        // Pub/sub ignores the database: meshes kept apart by database number alone (redis://host/1, and database 0
        // too) hear each other's joins. One is confirmed in this database before it is announced; leaves name ids
        // this mesh does not know.
        lock (_announcing)
            _lastAnnouncement = AnnounceInOrderAsync(_lastAnnouncement, change);
    }

    // In the order they came: a leave waits for the confirmation of the join before it, which would otherwise bring
    // back, when confirmed late, a node that has left.
    private async Task AnnounceInOrderAsync(Task previous, RegistryChange change)
    {
        await previous.ConfigureAwait(false);
        if (change is not MemberRegistered joined || await IsHereAsync(joined).ConfigureAwait(false))
            Raise(Changed, change);
    }

    private async Task<bool> IsHereAsync(MemberRegistered joined)
    {
        var key = RegistryKey.Format(_options.KeyPrefix, joined.Member.Name, joined.Member.Id);
        try
        {
            return await ExecuteAsync("confirm a join", db => db.KeyExistsAsync(key), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RegistryUnavailableException or ObjectDisposedException)
        {
            return false; // not announced now: the next listing finds the node if it is in this database
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Interactive)
            SetState(RegistryConnectionState.Disconnected, $"{e.FailureType}: {e.Exception?.Message}");
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Interactive)
            SetState(RegistryConnectionState.Connected, null);
    }

    /// <summary>
    /// Before the first connect completes (5 s while Redis is down) the client's events are not hooked yet, so the first
    /// call's outcome tells; afterwards only the client's events do, so a call that races a reconnect does not flap the state.
    /// </summary>
    private void SetStateIfUnknown(RegistryConnectionState state, string? reason)
    {
        if (Volatile.Read(ref _state) == UnknownState)
            SetState(state, reason);
    }

    private void SetState(RegistryConnectionState state, string? reason)
    {
        if (Interlocked.Exchange(ref _state, (int)state) == (int)state || _disposed)
            return;
        if (state == RegistryConnectionState.Connected)
            DiscoveryLog.Connected(_logger, Description);
        else
            DiscoveryLog.Disconnected(_logger, Description, reason ?? "unknown");
        Raise(ConnectionStateChanged, state);
    }

    private void Raise<T>(Action<T>? handlers, T value)
    {
        try
        {
            handlers?.Invoke(value);
        }
        catch (Exception ex)
        {
            DiscoveryLog.HandlerFailed(_logger, Description, ex);
        }
    }

    private static Task<T> Observed<T>(Task<T> task)
    {
        // A call abandoned by its timeout may still fail later; observe it so the failure is not reported as unobserved.
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return task;
    }
}
