using System.Collections.Immutable;
using System.Text.Json;
using MeshActors.Actors;
using MeshActors.Messaging;
using Microsoft.Extensions.Logging;

namespace MeshActors.Replication;

/// <summary>
/// Owns one replica of one replicated dictionary on one node: merges local writes and other replicas' messages into
/// its state, publishes the snapshot that <see cref="ReplicatedDictionary{T}"/> reads, and sends deltas and whole states
/// to the other replicas over the dictionary's topic.
/// </summary>
/// <remarks>
/// Accepts <see cref="DictionarySet{T}"/>, <see cref="DictionaryUpdate{T}"/>, <see cref="DictionaryRemove"/>, <see cref="DictionaryGet"/>,
/// <see cref="WatchDictionary"/> and <see cref="UnwatchDictionary"/> from any actor, answered to the sender. Handlers
/// run on this actor, one change at a time: a slow handler delays the replica's merges, not the readers.
/// </remarks>
internal sealed partial class ReplicatedDictionaryActor<T> : ReceiveActor, IWithTimers
{
    private readonly string _name;
    private readonly string _topic;
    private readonly string _replica;
    private readonly MeshMessaging _messaging;
    private readonly ReplicatedDictionaryOptions<T> _options;
    private readonly ReplicaView<T> _view;
    private readonly ILogger _log;
    private readonly int _maxFrameSize;
    private readonly int _envelopeOverhead;
    private readonly Dictionary<string, ReplicaVersion<T>[]> _entries = new(StringComparer.Ordinal);
    private readonly HashSet<IActorRef> _watchers = [];
    private readonly List<object> _events = [];
    private ImmutableDictionary<string, T> _snapshot = ImmutableDictionary.Create<string, T>(StringComparer.Ordinal);
    private ImmutableDictionary<string, DictionaryConflict<T>> _conflicts = ImmutableDictionary.Create<string, DictionaryConflict<T>>(StringComparer.Ordinal);
    private long _clock;
    private bool _answerWhenApplied;

    public ReplicatedDictionaryActor(string name, string replica, MeshMessaging messaging, ReplicatedDictionaryOptions<T> options, ReplicaView<T> view, int maxFrameSize)
    {
        _name = name;
        _topic = ReplicationWire.Topic(name);
        _replica = replica;
        _messaging = messaging;
        _options = options;
        _view = view;
        _log = Context.Log;
        _maxFrameSize = maxFrameSize;
        _envelopeOverhead = ReplicationWire.EnvelopeOverhead(_topic);

        Receive<FacadeWrite>(OnFacadeWrite);
        Receive<DictionarySet<T>>(OnSet);
        Receive<DictionaryUpdate<T>>(OnUpdate);
        Receive<DictionaryRemove>(OnRemove);
        Receive<DictionaryGet>(get =>
        {
            if (!Refused(get.Key))
                Sender.Tell(new DictionaryValue<T>(get.Key, _snapshot.TryGetValue(get.Key, out var value), value));
        });
        Receive<WatchDictionary>(OnWatch);
        Receive<UnwatchDictionary>(unwatch =>
        {
            if (unwatch.Watcher is not null && _watchers.Remove(unwatch.Watcher))
                Context.Unwatch(unwatch.Watcher);
        });
        Receive<Terminated>(terminated => _watchers.Remove(terminated.ActorRef));
        Receive<TopicMessage>(OnMessage);
        ReceiveSync();
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The props of a replica; <paramref name="maxFrameSize"/> is this node's own frame limit (<c>ProtocolOptions.MaxFrameSize</c>): no write larger than it carries is made.</summary>
    public static Props Props(string name, string replica, MeshMessaging messaging, ReplicatedDictionaryOptions<T> options, ReplicaView<T> view, int maxFrameSize) =>
        Actors.Props.Create(() => new ReplicatedDictionaryActor<T>(name, replica, messaging, options, view, maxFrameSize));

    private void OnSet(DictionarySet<T> set)
    {
        if (!Refused(set.Key) && Encoded(set.Value) is var (raw, value))
            Write(set.Key, removed: false, raw, value, new DictionaryWritten(set.Key, Changed: true));
    }

    private void OnUpdate(DictionaryUpdate<T> update)
    {
        if (Refused(update.Key))
            return;
        T updated;
        try
        {
            updated = update.Update(_snapshot.TryGetValue(update.Key, out var current) ? current : default);
        }
        catch (Exception ex)
        {
            Sender.Tell(new Status.Failure(ex));
            return;
        }

        if (Encoded(updated) is var (raw, value))
            Write(update.Key, removed: false, raw, value, new DictionaryValue<T>(update.Key, true, value));
    }

    /// <summary>
    /// The value as JSON, and as every other replica reads it back: what this replica shows too, so that the writer
    /// shows nothing the others cannot (a property the JSON leaves out, an object its caller changes afterwards). Null,
    /// and the sender told why, when it cannot be written or does not read back.
    /// </summary>
    /// <remarks>Any exception: a converter, a getter or a constructor may throw anything, and a sender left unanswered waits for its ask's timeout.</remarks>
    private (JsonElement Raw, T Value)? Encoded(T value)
    {
        JsonElement raw;
        try
        {
            raw = JsonSerializer.SerializeToElement(value, _messaging.Json);
        }
        catch (Exception ex)
        {
            Sender.Tell(new Status.Failure(ex));
            return null;
        }

        try
        {
            return (raw, raw.Deserialize<T>(_messaging.Json)!);
        }
        catch (Exception ex)
        {
            Sender.Tell(new Status.Failure(new ArgumentException(
                $"Dictionary '{_name}' cannot write a value whose JSON does not read back as {typeof(T).Name}, as every other replica would have to: {ex.Message}", "value", ex)));
            return null;
        }
    }

    private void OnRemove(DictionaryRemove remove)
    {
        if (Refused(remove.Key))
            return;
        // Nothing to remove: no tombstone for a key never seen. A key whose concurrent writes stand, a remove winning among
        // them, is not shown yet still has writes to replace: the remove settles them.
        if (!_snapshot.ContainsKey(remove.Key) && !_conflicts.ContainsKey(remove.Key))
        {
            Sender.Tell(new DictionaryWritten(remove.Key, Changed: false));
            return;
        }

        Write(remove.Key, removed: true, default, default, new DictionaryWritten(remove.Key, Changed: true));
    }

    /// <summary>A local write: it overwrites every version of the key seen here, is applied at once, and goes to every other replica as a delta; or, when it cannot be, nothing is written and the sender is told why.</summary>
    private void Write(string key, bool removed, JsonElement raw, T? value, object reply)
    {
        ReplicaVersion<T> version;
        byte[] delta;
        try
        {
            if (!removed && !ReplicationWire.IsNestable(raw))
            {
                throw new ArgumentException(
                    $"Dictionary '{_name}' cannot write key '{key}': its value nests deeper than the {ReplicationWire.MaxValueDepth} levels a replica can read.", "value");
            }

            version = NextVersion(key, removed, raw, value);
            delta = ReplicationWire.Encode(ReplicationWire.Delta, _replica, final: false, [KeyValuePair.Create(key, new[] { version })]);
            EnsureFits(key, delta.Length);
        }
        catch (Exception ex) when (ex is OverflowException or ArgumentException)
        {
            Sender.Tell(new Status.Failure(ex));
            return;
        }

        Merge(key, version, local: true);
        Publish();

        var sending = Broadcast(delta);
        if (_answerWhenApplied)
        {
            Sender.Tell(new Applied(reply, sending ?? Task.CompletedTask));
            return;
        }

        if (sending is null)
        {
            Sender.Tell(reply);
            return;
        }

        var replyTo = Sender;
        _ = sending.ContinueWith(
            sent => replyTo.Tell(sent.Exception is { } failed ? new Status.Failure(failed.InnerException!) : reply),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>The version a local write to <paramref name="key"/> makes: it has seen every version of the key here, and its stamp is above every stamp seen.</summary>
    /// <exception cref="OverflowException">Its stamp, or this replica's count in its vector, would be above <see cref="ReplicationWire.MaxCount"/>, which other replicas refuse.</exception>
    private ReplicaVersion<T> NextVersion(string key, bool removed, JsonElement raw, T? value)
    {
        var seen = Siblings.Seen(_entries.GetValueOrDefault(key) ?? []);
        if (_clock >= ReplicationWire.MaxCount)
            throw new OverflowException($"Dictionary '{_name}' cannot write key '{key}': its Lamport stamp would be above {ReplicationWire.MaxCount}, the most docs/protocol.md 14.2 allows (its own writes took its clock there from {ReplicationWire.MaxFollowedStamp}, the most other replicas' stamps move it).");
        if (seen[_replica] >= ReplicationWire.MaxCount)
            throw new OverflowException($"Dictionary '{_name}' cannot write key '{key}': this replica's count in its version vector would be above {ReplicationWire.MaxCount}, the most docs/protocol.md 14.2 allows.");
        return new ReplicaVersion<T>(_replica, _messaging.SelfId, seen.Increment(_replica), _clock + 1, removed, raw, value);
    }

    /// <summary>A write from <see cref="ReplicatedDictionary{T}"/>: answered once applied, with the wait for the peers' queues beside the answer, so that the facade waits for room under its caller's token and not under an ask's timeout.</summary>
    private void OnFacadeWrite(FacadeWrite write)
    {
        _answerWhenApplied = true;
        try
        {
            switch (write.Write)
            {
                case DictionarySet<T> set:
                    OnSet(set);
                    break;
                case DictionaryUpdate<T> update:
                    OnUpdate(update);
                    break;
                case DictionaryRemove remove:
                    OnRemove(remove);
                    break;
            }
        }
        finally
        {
            _answerWhenApplied = false;
        }
    }

    private void OnMessage(TopicMessage message)
    {
        ReplicationWire.Message decoded;
        try
        {
            decoded = ReplicationWire.Decode(message.Data);
        }
        catch (FormatException ex)
        {
            _view.Stats.OnBadMessage();
            ReplicationLog.BadMessage(_log, _name, message.SenderId, message.SenderName, ex.Message);
            return;
        }

        if (decoded.Kind == ReplicationWire.Pull)
        {
            OnPull(message.SenderId, decoded.Replica);
            return;
        }

        foreach (var (key, reason) in decoded.Refused)
        {
            _view.Stats.OnBadVersion();
            ReplicationLog.BadVersion(_log, _name, key, message.SenderId, reason);
        }

        // Whatever goes wrong in between, readers see what was merged, and a final state still completes an open.
        try
        {
            foreach (var (key, versions) in decoded.Entries)
            {
                var read = new List<ReplicaVersion<T>>(versions.Count);
                foreach (var wire in versions)
                {
                    if (Read(key, wire, message.SenderId) is { } version)
                        read.Add(version);
                }

                Merge(key, read, local: false);
            }
        }
        finally
        {
            Publish();
            // A state that answered an earlier replica's pull (this node's replica reopened), or was sent unasked, is
            // merged, but is no answer to this one's pull: it may have been encoded before this replica existed.
            if (decoded.Kind == ReplicationWire.State && decoded.Final)
                OnStateReceived(message.SenderId, answersThisReplica: decoded.For is null || decoded.For == _replica);
        }
    }

    /// <summary>A version from the wire with its value read as <typeparamref name="T"/>; null (logged, counted) when it is not one.</summary>
    private ReplicaVersion<T>? Read(string key, ReplicationWire.WireVersion wire, string senderId)
    {
        T? value = default;
        if (!wire.Removed)
        {
            try
            {
                value = wire.Raw.Deserialize<T>(_messaging.Json);
            }
            catch (Exception ex)
            {
                // Any exception: a constructor or a converter of T may throw anything, and one bad value must not cost the rest of its message.
                _view.Stats.OnBadValue();
                ReplicationLog.BadValue(_log, _name, key, senderId, typeof(T).Name, ex.Message);
                return null;
            }
        }

        return new ReplicaVersion<T>(wire.Replica, wire.Node, wire.Vector, wire.Stamp, wire.Removed, wire.Raw, value);
    }

    /// <summary>Merges one version into its key, updating the snapshot and queueing the change and conflict events it causes.</summary>
    private void Merge(string key, ReplicaVersion<T> version, bool local) => Merge(key, [version], local);

    /// <summary>
    /// Merges the versions of one key that came together, then queues what they changed once: from what the key showed
    /// before them to what it shows after, never a value in between that no reader saw.
    /// </summary>
    private void Merge(string key, IReadOnlyList<ReplicaVersion<T>> versions, bool local)
    {
        var before = _entries.GetValueOrDefault(key) ?? [];
        var after = before;
        foreach (var version in versions)
        {
            _clock = Math.Max(_clock, local ? version.Stamp : Math.Min(version.Stamp, ReplicationWire.MaxFollowedStamp));
            after = Siblings.Merge(after, version) ?? after;
        }

        if (ReferenceEquals(after, before))
            return;
        _entries[key] = after;
        var wasResolved = _conflicts.TryGetValue(key, out var earlier) && earlier.Resolved;

        var winner = Siblings.Winner(after);
        var (present, shown) = (!winner.Removed, winner.Value);
        var resolved = false;
        if (after.Length > 1)
        {
            var writes = after.Select(Write).ToArray();
            var conflict = new DictionaryConflict<T>(key, writes, writes[^1], present ? shown : default, Resolved: false);
            // Removes alone are no conflict of intents: the key stays absent, and a resolver, which can only make a value, is not asked.
            if (_options.Resolver is { } resolver && after.Any(sibling => !sibling.Removed))
            {
                try
                {
                    var value = resolver(conflict);
                    // A value JSON cannot hold (NaN, a cycle) is a resolver's failure: what every replica shows must be
                    // writable, and the comparisons below read it as JSON.
                    JsonSerializer.SerializeToUtf8Bytes(value, _messaging.Json);
                    (present, shown, resolved) = (true, value, true);
                    conflict = conflict with { Value = shown, Resolved = true };
                }
                catch (Exception ex)
                {
                    _view.Stats.OnResolverFailure();
                    ReplicationLog.ResolverFailed(_log, _name, key, ex);
                }
            }

            _view.Stats.OnConflict();
            ReplicationLog.Conflict(_log, _name, key, string.Join(", ", after.Select(sibling => sibling.Node)), winner.Node);
            _events.Add(conflict);
            _conflicts = _conflicts.SetItem(key, conflict);
        }
        else if (before.Length > 1)
        {
            _conflicts = _conflicts.Remove(key); // a write that had seen every concurrent one replaced them
        }

        var wasPresent = _snapshot.TryGetValue(key, out var old);
        // Not SetItem: it keeps the old value when T.Equals calls the new one equal (an entity type equal by its id
        // alone, 0.0 and -0.0), and readers would never see the new one.
        _snapshot = present ? _snapshot.Remove(key).Add(key, shown!) : _snapshot.Remove(key);
        // The same winner's value shown before and now is no change; a resolver's value, before or now, is compared instead.
        var sameWinner = before.Length > 0 && ReferenceEquals(Siblings.Winner(before), winner) && !resolved && !wasResolved;
        var sameValue = (resolved || wasResolved) && SameJson(old, shown);
        if (present != wasPresent || (present && !sameWinner && !sameValue))
            _events.Add(new DictionaryChange<T>(key, present ? DictionaryChangeKind.Set : DictionaryChangeKind.Removed, present ? shown : default, winner.Node, local));

        static DictionaryWrite<T> Write(ReplicaVersion<T> sibling) => new(sibling.Node, sibling.Removed, sibling.Value, sibling.Stamp);
    }

    // By what replicas see of a value, its JSON, not by T.Equals, which may compare a part of it only.
    // A value that has no JSON (shown before a resolver's result was checked) differs from any other.
    private bool SameJson(T? a, T? b)
    {
        try
        {
            return JsonSerializer.SerializeToUtf8Bytes(a, _messaging.Json).AsSpan().SequenceEqual(JsonSerializer.SerializeToUtf8Bytes(b, _messaging.Json));
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or InvalidOperationException or JsonException)
        {
            return false;
        }
    }

    /// <summary>Shows readers the new snapshot, then tells handlers and watchers what changed, in order.</summary>
    private void Publish()
    {
        _view.Conflicts = _conflicts;
        _view.Snapshot = _snapshot;
        if (_events.Count == 0)
            return;
        var events = _events.ToArray();
        _events.Clear();
        foreach (var happened in events)
        {
            switch (happened)
            {
                case DictionaryChange<T> change:
                    foreach (var handler in _view.ChangeHandlers)
                        Call(handler, change, "change", change.Key);
                    break;
                case DictionaryConflict<T> conflict:
                    foreach (var handler in _view.ConflictHandlers)
                        Call(handler, conflict, "conflict", conflict.Key);
                    break;
            }

            foreach (var watcher in _watchers)
                watcher.Tell(happened);
        }
    }

    private void Call<TEvent>(Action<TEvent> handler, TEvent happened, string what, string key)
    {
        try
        {
            handler(happened);
        }
        catch (Exception ex)
        {
            _view.Stats.OnHandlerFailure();
            ReplicationLog.HandlerFailed(_log, what, _name, key, ex);
        }
    }

    private void OnWatch(WatchDictionary watch)
    {
        // A null among the watchers would throw at every publish after it, each write applied here and sent nowhere.
        if (watch.Watcher is null)
        {
            Sender.Tell(new Status.Failure(new ArgumentNullException(nameof(watch), "WatchDictionary needs a watcher.")));
            return;
        }

        if (_watchers.Add(watch.Watcher))
            Context.Watch(watch.Watcher);
        Sender.Tell(new DictionaryWatched(watch.Watcher));
    }

    private bool Refused(string key)
    {
        if (!string.IsNullOrEmpty(key))
            return false;
        Sender.Tell(new Status.Failure(new ArgumentException("A key must not be empty.", nameof(key))));
        return true;
    }

    /// <summary>A write from the facade (<see cref="DictionarySet{T}"/>, <see cref="DictionaryUpdate{T}"/> or <see cref="DictionaryRemove"/>): answered with <see cref="Applied"/> once applied here, or as the write itself would be answered when nothing was written.</summary>
    internal sealed record FacadeWrite(object Write);

    /// <summary>The answer to <see cref="FacadeWrite"/>: what the write's own answer would be, and a task that completes once it is queued for every other replica (it fails only when the replica closed first).</summary>
    internal sealed record Applied(object Reply, Task Queued);
}
