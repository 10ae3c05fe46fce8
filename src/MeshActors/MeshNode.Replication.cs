using System.Collections.Concurrent;
using MeshActors.Actors;
using MeshActors.Replication;

namespace MeshActors;

/// <summary>Opening replicated dictionaries: one replica actor per open dictionary on this node.</summary>
public sealed partial class MeshNode
{
    // The dictionaries open here (their counters once the open succeeded), for the one-open-per-name rule and the metrics.
    private readonly ConcurrentDictionary<string, ReplicationStats?> _dictionaries = new(StringComparer.Ordinal);
    private long _lastDictionary;

    /// <summary>The dictionaries open on this node and their counters.</summary>
    private IEnumerable<(string Name, ReplicationStats Stats)> OpenDictionaries() =>
        _dictionaries.Where(open => open.Value is not null).Select(open => (open.Key, open.Value!));

    /// <inheritdoc />
    public async Task<ReplicatedDictionary<T>> OpenDictionaryAsync<T>(string name, ReplicatedDictionaryOptions<T>? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        options ??= new ReplicatedDictionaryOptions<T>();
        options.Validate();
        var messaging = Messaging;

        // Two replicas on one node would be one node writing with two counters: share the instance instead.
        if (!_dictionaries.TryAdd(name, null))
            throw new InvalidOperationException($"Dictionary '{name}' is already open on node {_options.NodeName} ({Id}): use that instance.");
        try
        {
            var view = new ReplicaView<T>();
            var replica = Guid.NewGuid().ToString("N"); // fresh for each open: a reopened replica never reuses counts it had before
            var props = ReplicatedDictionaryActor<T>.Props(name, replica, messaging, options, view, _options.Protocol.MaxFrameSize);
            var actor = await _guardian.Ask<IActorRef>(
                new MeshGuardianActor.Spawn(props, "dict-" + Interlocked.Increment(ref _lastDictionary).ToString(global::System.Globalization.CultureInfo.InvariantCulture)),
                cancellationToken: cancellationToken).ConfigureAwait(false);
            try
            {
                // The actor bounds the wait itself (OpenTimeout); the ask's own limit only guards against a lost answer.
                await actor.Ask<ReplicatedDictionaryActor<T>.Opened>(
                    ReplicatedDictionaryActor<T>.Open.Instance, options.OpenTimeout + TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                System.Stop(actor);
                throw;
            }

            _dictionaries[name] = view.Stats;
            return new ReplicatedDictionary<T>(name, actor, view, () => _dictionaries.TryRemove(name, out _));
        }
        catch
        {
            _dictionaries.TryRemove(name, out _);
            throw;
        }
    }
}
