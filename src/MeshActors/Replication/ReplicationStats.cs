namespace MeshActors.Replication;

/// <summary>Counters of one replica of a <see cref="ReplicatedDictionary{T}"/>; each value only grows, readable from any thread.</summary>
public sealed class ReplicationStats
{
    private long _badMessages;
    private long _badValues;
    private long _badVersions;
    private long _conflicts;
    private long _handlerFailures;
    private long _resolverFailures;
    private long _statesSent;
    private long _statesReceived;
    private long _sendFailures;
    private long _pullsCoalesced;

    /// <summary>Messages refused whole: not a JSON object, another <c>v</c>, an unknown <c>kind</c>, no <c>entries</c> array (logged, event 8003).</summary>
    public long BadMessages => Volatile.Read(ref _badMessages);

    /// <summary>Versions refused because their value is not the dictionary's type (logged, event 8004); the rest of their message applied.</summary>
    public long BadValues => Volatile.Read(ref _badValues);

    /// <summary>Versions (or entries) refused alone because they break the wire format: a missing or mistyped field, a stamp or count above the maximum (logged, event 8010); the rest of their message applied.</summary>
    public long BadVersions => Volatile.Read(ref _badVersions);

    /// <summary>Times a merge found concurrent writes to a key.</summary>
    public long Conflicts => Volatile.Read(ref _conflicts);

    /// <summary>Change or conflict handlers that threw (logged, event 8005).</summary>
    public long HandlerFailures => Volatile.Read(ref _handlerFailures);

    /// <summary>Times the resolver threw (logged, event 8006).</summary>
    public long ResolverFailures => Volatile.Read(ref _resolverFailures);

    /// <summary>Whole states sent to another replica (one or more messages each).</summary>
    public long StatesSent => Volatile.Read(ref _statesSent);

    /// <summary>Whole states received from another replica (counted at their final message).</summary>
    public long StatesReceived => Volatile.Read(ref _statesReceived);

    /// <summary>Messages that could not be queued for a peer for a reason other than its leaving (logged, event 8009).</summary>
    public long SendFailures => Volatile.Read(ref _sendFailures);

    /// <summary>
    /// Pulls that got no state transfer of their own: they came while a transfer to their node was under way and another
    /// was already due after it, which answers them all (logged once per burst, event 8011).
    /// </summary>
    public long PullsCoalesced => Volatile.Read(ref _pullsCoalesced);

    internal void OnBadMessage() => Interlocked.Increment(ref _badMessages);

    internal void OnBadValue() => Interlocked.Increment(ref _badValues);

    internal void OnBadVersion() => Interlocked.Increment(ref _badVersions);

    internal void OnConflict() => Interlocked.Increment(ref _conflicts);

    internal void OnHandlerFailure() => Interlocked.Increment(ref _handlerFailures);

    internal void OnResolverFailure() => Interlocked.Increment(ref _resolverFailures);

    internal void OnStateSent() => Interlocked.Increment(ref _statesSent);

    internal void OnStateReceived() => Interlocked.Increment(ref _statesReceived);

    internal void OnSendFailure() => Interlocked.Increment(ref _sendFailures);

    internal void OnPullCoalesced() => Interlocked.Increment(ref _pullsCoalesced);
}
