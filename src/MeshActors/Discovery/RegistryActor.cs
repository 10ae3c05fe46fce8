using System.Diagnostics;
using MeshActors.Actors;
using Microsoft.Extensions.Logging;

namespace MeshActors.Discovery;

/// <summary>
/// Keeps this node registered and knows who else is in the mesh: registers on start, refreshes at every heartbeat,
/// deregisters on a graceful stop, and publishes <see cref="MemberUp"/>, <see cref="MemberDown"/> and
/// <see cref="MemberUpdated"/> on the EventStream and to <see cref="SubscribeMembers"/> subscribers.
/// </summary>
/// <remarks>
/// Membership comes from two sources: the registry's change feed, for joins and leaves within milliseconds, and a
/// full listing at every heartbeat, which heals a lost announcement and notices crashed nodes once their
/// registration expires. While the registry is unreachable the actor keeps the membership it knows, retries with
/// backoff, and re-registers when the registry returns (its registration may have expired meanwhile). Registry
/// calls run off the actor and come back as messages, so membership questions are answered at once even while a
/// call hangs. The actor does not own the <see cref="IRegistry"/>: its creator disposes it after the actor stops.
/// A node's own registry actor is resumed after a failure and keeps both (the node's guardian decides so); under a
/// supervisor that restarts it instead, the node stays registered but the new instance starts with no members and no
/// subscribers, and registers the registration the actor was created with (an <see cref="UpdateSelf"/> since is lost).
/// A lost connection counts as a failed call: the first successful round after it holds off removals for one TTL.
/// A heartbeat that finds a round still listing refreshes the registration beside it: a listing can outlast the TTL
/// (a Redis keyspace of millions of other keys is scanned a page at a time), and the node must not expire meanwhile.
/// </remarks>
public sealed partial class RegistryActor : ReceiveActor, IWithTimers
{
    private const string HeartbeatTimer = "heartbeat";
    private const string RetryTimer = "retry";

    private readonly IRegistry _registry;
    private readonly DiscoveryOptions _options;
    private readonly ILogger _log;
    private readonly TimeSpan _maxBackoff;
    private MeshMember _self;
    private Task? _inFlight;
    private Task? _refreshing;
    private bool _registerNeeded = true;
    private bool _everRegistered;
    private bool? _available;
    private long _unavailableSince;
    private long _entryLostAt;
    private TimeSpan _backoff;
    private bool _left;
    private Action<RegistryChange>? _onChange;
    private Action<RegistryConnectionState>? _onConnectionState;

    /// <summary>Creates the actor; prefer <see cref="Props"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="self"/> cannot be registered (e.g. a name containing ':').</exception>
    public RegistryActor(IRegistry registry, MeshMember self, DiscoveryOptions options)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        RegistrationCodec.EnsureRegistrable(self, options.MaxRegistrationBytes); // fail at creation, not at every heartbeat
        _registry = registry;
        _self = self;
        _options = options;
        _log = Context.Log;
        _backoff = options.RetryBackoffMin;
        _maxBackoff = options.RetryBackoffMax ?? options.HeartbeatInterval;

        Receive<Sync>(_ => StartSync());
        Receive<Synced>(OnSynced);
        Receive<SyncFailed>(OnSyncFailed);
        Receive<Refreshed>(refreshed =>
        {
            _refreshing = null;
            if (refreshed.EntryLost && !_left)
                OnEntryLost();
        });
        Receive<RefreshFailed>(OnRefreshFailed);
        Receive<Announced>(announced => OnAnnounced(announced.Change));
        Receive<ConnectionStateChanged>(OnConnectionStateChanged);
        Receive<UpdateSelf>(OnUpdateSelf);
        ReceiveAsync<LeaveMesh>(_ => LeaveAsync());
        ReceiveMembership();
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The props of a registry actor that registers <paramref name="self"/> in <paramref name="registry"/>.</summary>
    public static Props Props(IRegistry registry, MeshMember self, DiscoveryOptions options) =>
        Actors.Props.Create(() => new RegistryActor(registry, self, options));

    /// <inheritdoc />
    protected override void PreStart()
    {
        var self = Self;
        _onChange = change => self.Tell(new Announced(change));
        _onConnectionState = state => self.Tell(new ConnectionStateChanged(state));
        _registry.Changed += _onChange;
        _registry.ConnectionStateChanged += _onConnectionState;
        Timers.StartPeriodicTimer(HeartbeatTimer, Sync.Instance, TimeSpan.Zero, _options.HeartbeatInterval);
    }

    /// <summary>A restart is not a leave: the node stays registered and the new instance takes over its registration.</summary>
    protected override void PreRestart(Exception reason, object? message) => Detach();

    /// <inheritdoc />
    protected override void PostStop()
    {
        Detach();
        if (_left)
            return;

        // A stop is graceful: leave at once rather than at TTL expiry. PostStop must not block a thread on I/O (a
        // whole system stopping would starve the pool), so the leave runs on, after any round still in flight; an
        // owner that must know it is done asks LeaveMesh before stopping the actor.
        _ = DeregisterAsync(WritesInFlight(), _registry, _self, _everRegistered, _options.Ttl, _log);
    }

    /// <summary>The round and the refresh in flight, if any: either could write the registration again after a DEL.</summary>
    private Task WritesInFlight() => Task.WhenAll(_inFlight ?? Task.CompletedTask, _refreshing ?? Task.CompletedTask);

    /// <summary>Deregisters once the writes in flight have landed (they could otherwise write the registration again after the DEL).</summary>
    /// <remarks>A node that never registered (its registry never answered) only says so at Debug: a tool that could not reach the registry is not also told it failed to leave it.</remarks>
    private static async Task DeregisterAsync(Task inFlight, IRegistry registry, MeshMember self, bool registered, TimeSpan ttl, ILogger log)
    {
        await inFlight.ConfigureAwait(false); // PipeTo never throws, and every registry call is bounded
        try
        {
            await registry.DeregisterAsync(self).ConfigureAwait(false);
            Log.Deregistered(log, self.Id, registry.Description);
        }
        catch (Exception ex) when (ex is RegistryUnavailableException or ObjectDisposedException)
        {
            if (registered)
                Log.DeregistrationFailed(log, self.Id, ex.Message, ttl);
            else
                Log.DeregistrationFailedUnregistered(log, self.Id, ex.Message, ttl);
        }
    }

    private void Detach()
    {
        _registry.Changed -= _onChange;
        _registry.ConnectionStateChanged -= _onConnectionState;
    }

    /// <summary>One registry round: register (or refresh) this node, then list every member; one at a time.</summary>
    private void StartSync()
    {
        if (_left)
            return;
        if (_inFlight is not null)
        {
            KeepAlive();
            return;
        }

        var register = _registerNeeded;
        _registerNeeded = false;
        var self = _self;
        var startedAt = Stopwatch.GetTimestamp();
        // Task.Run: a backend that does its I/O synchronously (the local directory) must not run it on the actor.
        var registeredBefore = _everRegistered;
        _inFlight = Task.Run(() => SyncAsync(register, registeredBefore, self)).PipeTo(
            Self,
            success: synced => new Synced(synced.Listing, startedAt, synced.EntryLost),
            failure: exception => new SyncFailed(exception));
    }

    /// <summary>Refreshes the registration beside a round still in flight, unless a refresh already is.</summary>
    private void KeepAlive()
    {
        if (_refreshing is not null)
            return;
        var self = _self;
        _refreshing = Task.Run(() => _registry.RefreshAsync(self)).PipeTo(
            Self,
            success: kept => kept ? Refreshed.Kept : Refreshed.Lost,
            failure: exception => new RefreshFailed(exception));
    }

    /// <summary>Runs off the actor: touches only its arguments and the registry.</summary>
    private async Task<(RegistryListing Listing, bool EntryLost)> SyncAsync(bool register, bool registeredBefore, MeshMember self)
    {
        var lost = false;
        if (!register || registeredBefore)
        {
            // A heartbeat, or an update of a registration that may be gone meanwhile (a wiped directory, a flushed
            // keyspace), which only a refresh tells: it writes the entry again then, announced.
            lost = !await _registry.RefreshAsync(self).ConfigureAwait(false);
        }

        if (register && !lost)
            await _registry.RegisterAsync(self).ConfigureAwait(false); // announced
        return (await _registry.ListAsync().ConfigureAwait(false), lost);
    }

    private void OnSynced(Synced synced)
    {
        _inFlight = null;
        if (_left)
            return;

        if (!_everRegistered)
        {
            _everRegistered = true;
            Log.Registered(_log, _self.Id, _self.Name, _self.Address, _registry.Description);
        }

        // A round that began before the connection was lost says nothing about the registry now.
        var becameAvailable = false;
        if (_available != false || synced.StartedAt >= _unavailableSince)
        {
            becameAvailable = _available != true;
            if (_available == false)
            {
                Log.RegistryAvailable(_log, _registry.Description, Stopwatch.GetElapsedTime(_unavailableSince), _self.Id);
                // The other nodes are re-registering after the same outage, each when its own client reconnects: give
                // them one TTL, as long as a live node may ever go unrefreshed, before taking absence for death.
                _removalsSuspendedUntil = Stopwatch.GetTimestamp() + (long)(_options.Ttl.TotalSeconds * Stopwatch.Frequency);
            }

            _available = true;
            _backoff = _options.RetryBackoffMin;
            Timers.Cancel(RetryTimer);
        }

        // This round wrote this node's registration before it listed: a listing without it comes from a keyspace lost
        // since (flushed; a Redis restarted without its data), which the refresh could not see. Taken so at most every
        // two TTLs, so that a registration that somehow never lists cannot hold off removals for good.
        if (synced.EntryLost
            || (!synced.Listing.Members.Any(member => IsSelf(member.Id)) && Stopwatch.GetElapsedTime(_entryLostAt) > _options.Ttl * 2))
            OnEntryLost();
        Reconcile(synced.Listing, synced.StartedAt);
        // After the round's membership events: whoever hears it finds the members the registry listed.
        if (becameAvailable)
            Context.System.EventStream.Publish(new RegistryAvailabilityChanged(_self.Id, _registry.Description, true, null));
        if (_registerNeeded)
            StartSync(); // an update arrived during the round
    }

    private void OnSyncFailed(SyncFailed failed)
    {
        _inFlight = null;
        if (_left)
            return;

        NoteFailure(failed.Exception);
        var jittered = _backoff * (0.8 + (Random.Shared.NextDouble() * 0.4));
        Timers.StartSingleTimer(RetryTimer, Sync.Instance, jittered);
        _backoff = TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, _maxBackoff.Ticks));
    }

    /// <summary>The round in flight will likely fail too; if it does not, its success predates this failure and the next round registers again.</summary>
    private void OnRefreshFailed(RefreshFailed failed)
    {
        _refreshing = null;
        if (!_left)
            NoteFailure(failed.Exception);
    }

    private void NoteFailure(Exception exception)
    {
        // The registration may expire before the registry returns: register afresh (and announce it) next time.
        _registerNeeded = true;
        if (_available == false)
            return;
        BecomeUnavailable(exception.Message);
        if (exception is RegistryUnavailableException)
            Log.RegistryUnavailable(_log, _registry.Description, exception.Message, _members.Count);
        else
            Log.RegistryFailed(_log, _registry.Description, _members.Count, exception);
    }

    private void OnConnectionStateChanged(ConnectionStateChanged changed)
    {
        if (_left)
            return;

        if (changed.State == RegistryConnectionState.Disconnected)
        {
            // As good as a failed call, even if none of this node's calls failed: a Redis that restarts between two
            // heartbeats comes back without the other nodes' keys, and they re-register only as their own clients
            // reconnect. Being unavailable makes the next successful round hold off removals for one TTL, and
            // register (and announce) this node again, since its key may be gone too.
            _registerNeeded = true;
            // A round already under way may list the empty keyspace before this node knows the connection is back.
            _removalsSuspendedUntil = Math.Max(_removalsSuspendedUntil, Stopwatch.GetTimestamp() + (long)(_options.Ttl.TotalSeconds * Stopwatch.Frequency));
            if (_available != false)
            {
                const string reason = "connection lost";
                BecomeUnavailable(reason);
                Log.RegistryUnavailable(_log, _registry.Description, reason, _members.Count);
            }
        }
        else if (_available == false)
        {
            StartSync(); // do not wait out the backoff: the registry is back now
        }
    }

    /// <summary>
    /// This node's registration was gone without a deregistration, and the other nodes' likely went with it: they write
    /// theirs again at their next heartbeat, so removals wait one TTL, and this node registers (announced) again.
    /// </summary>
    private void OnEntryLost()
    {
        _entryLostAt = Stopwatch.GetTimestamp();
        _registerNeeded = true;
        _removalsSuspendedUntil = Math.Max(_removalsSuspendedUntil, Stopwatch.GetTimestamp() + (long)(_options.Ttl.TotalSeconds * Stopwatch.Frequency));
    }

    private void BecomeUnavailable(string reason)
    {
        _available = false;
        _unavailableSince = Stopwatch.GetTimestamp();
        Context.System.EventStream.Publish(new RegistryAvailabilityChanged(_self.Id, _registry.Description, false, reason));
    }

    private void OnUpdateSelf(UpdateSelf update)
    {
        if (!string.Equals(update.Self.Id, _self.Id, StringComparison.OrdinalIgnoreCase))
        {
            Refuse($"the node id cannot change (from {_self.Id} to {update.Self.Id})");
            return;
        }

        try
        {
            RegistrationCodec.EnsureRegistrable(update.Self, _options.MaxRegistrationBytes);
        }
        catch (ArgumentException ex)
        {
            Refuse(ex.Message);
            return;
        }

        // The name is part of the Redis key: a renamed node would leave its old key behind until it expires, and be
        // listed under both names meanwhile.
        if (update.Self.Name != _self.Name)
        {
            Refuse($"the node name cannot change (from '{RegistrationCodec.Shorten(_self.Name)}' to '{RegistrationCodec.Shorten(update.Self.Name)}')");
            return;
        }

        if (update.Self.Equals(_self))
            return;
        _self = update.Self;
        _registerNeeded = true;
        StartSync();

        void Refuse(string reason)
        {
            Log.UpdateRefused(_log, reason);
            Sender.Tell(new Status.Failure(new ArgumentException(reason, nameof(update))));
        }
    }

    private async Task LeaveAsync()
    {
        if (!_left)
        {
            _left = true;
            Timers.CancelAll();
            await DeregisterAsync(WritesInFlight(), _registry, _self, _everRegistered, _options.Ttl, _log);
        }

        Sender.Tell(LeftMesh.Instance);
    }

    /// <summary>The heartbeat and retry timers' message.</summary>
    private sealed class Sync
    {
        public static readonly Sync Instance = new();
    }

    private sealed record Synced(RegistryListing Listing, long StartedAt, bool EntryLost);

    private sealed record SyncFailed(Exception Exception);

    private sealed record Refreshed(bool EntryLost)
    {
        public static readonly Refreshed Kept = new(false);
        public static readonly Refreshed Lost = new(true);
    }

    private sealed record RefreshFailed(Exception Exception);

    private sealed record Announced(RegistryChange Change);

    private sealed record ConnectionStateChanged(RegistryConnectionState State);
}
