using System.Diagnostics;
using MeshActors.Actors;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Protocol;

namespace MeshActors.Replication;

/// <summary>
/// Keeping replicas in step: the other replicas are the nodes that announced the dictionary's topic; deltas go to each
/// of them, whatever its group. A replica asks each other replica for its whole state (<c>pull</c>) when it opens and
/// whenever that replica appears again (its channel came back): that repairs deltas lost with a dropped channel, and
/// brings writes made while they could not see each other. An opening replica opens once the replicas it knew answered.
/// </summary>
/// <remarks>
/// A pull is answered only once the asking node is in this node's routes: from then on this node's writes go to it as
/// deltas, so a write is either in the state it sends or in a later delta, never in neither. One state at a time goes to
/// a node: pulls that arrive while it goes out are answered together by one more, encoded when it has gone, so that a
/// node pulling in a loop costs one state per state it takes rather than one per pull, and no re-sync is lost.
/// </remarks>
internal sealed partial class ReplicatedDictionaryActor<T>
{
    private const string OpenTimerKey = "open";

    // By reference: the router makes a new candidate for each channel, so a channel that came back is a new replica
    // here even when this actor never saw the route without it.
    private readonly HashSet<RouteCandidate> _replicas = [];
    private readonly CancellationTokenSource _stopping = new();
    // Pulls from nodes not yet replicas in the routes, until they are; at most one per connected node, as a node's entry
    // goes with its last channel (it pulls again when it is back).
    private readonly Dictionary<string, string> _pendingPulls = new(StringComparer.Ordinal); // node -> the replica that asked
    private readonly Dictionary<string, StateTransfer> _transfers = new(StringComparer.Ordinal);
    private HashSet<string>? _awaiting;
    private List<string>? _unanswered; // awaited nodes that left, or did not answer in time: the open says it lacks them
    private IActorRef? _opener;
    private long _openStarted;
    private bool _subscribed;

    private void ReceiveSync()
    {
        Receive<Open>(_ =>
        {
            _opener = Sender;
            _openStarted = Stopwatch.GetTimestamp();
            _messaging.TopicRouter.Tell(new Subscribe(_topic, Self), Self);
        });
        Receive<SubscribeAck>(_ => OnSubscribed());
        Receive<RoutesChanged>(_ => OnRoutesChanged());
        Receive<PeerDisconnected>(left => OnLeft(left.NodeId));
        Receive<StateTransferred>(transferred => OnStateTransferred(transferred.NodeId));
        Receive<OpenTimedOut>(_ =>
        {
            if (_awaiting is null)
                return;
            (_unanswered ??= []).AddRange(_awaiting);
            FinishOpen();
        });
    }

    /// <inheritdoc />
    /// <remarks>
    /// A node's last channel going is published after every message it sent here is delivered, so its pull is never
    /// forgotten before it arrives; the subscription ends with the actor.
    /// </remarks>
    protected override void PreStart() => Context.System.EventStream.Subscribe<PeerDisconnected>(Self);

    /// <inheritdoc />
    protected override void PostStop()
    {
        // Cancelled, never disposed: senders off the actor (a state still going out) read its token after this, and a
        // disposed source would throw there, logged as a send failure that was none. It holds nothing to free.
        _stopping.Cancel();
    }

    /// <summary>Listening now, and announced: ask the replicas already known for their state, then watch for replicas appearing.</summary>
    private void OnSubscribed()
    {
        if (_subscribed)
            return;
        _subscribed = true;
        _awaiting = new HashSet<string>(StringComparer.Ordinal);
        var pull = ReplicationWire.EncodePull(_replica);
        foreach (var replica in OtherReplicas())
        {
            _replicas.Add(replica);
            _awaiting.Add(replica.NodeId);
            _ = Send(replica.Peer!, pull, ReplicationWire.Pull);
        }

        if (_awaiting.Count == 0)
            FinishOpen();
        else
            Timers.StartSingleTimer(OpenTimerKey, OpenTimedOut.Instance, _options.OpenTimeout);
        _ = WatchRoutesAsync(_messaging.Routes, Self, _stopping.Token);
    }

    /// <summary>Asks each replica that appeared for its whole state, and answers the pulls that waited for their node to appear.</summary>
    private void OnRoutesChanged()
    {
        var current = OtherReplicas().ToHashSet();
        var pull = ReplicationWire.EncodePull(_replica);
        foreach (var replica in current)
        {
            if (_replicas.Add(replica))
                _ = Send(replica.Peer!, pull, ReplicationWire.Pull);
            if (_pendingPulls.Remove(replica.NodeId, out var asker))
                OnPull(replica.NodeId, asker);
        }

        var departed = _replicas.Select(replica => replica.NodeId).Except(current.Select(replica => replica.NodeId)).Any();
        _replicas.IntersectWith(current);
        if (departed)
        {
            // A replica left (it closed, or its node went). A delta of its may have been lost on the way to another
            // replica (a failed channel) and will never come again from it; this one may have it, received before the
            // replica's departure on the same channel. Each remaining replica sends its state to the others.
            foreach (var replica in current)
                SendStateUnasked(replica);
        }

        if (_awaiting?.Where(node => !current.Any(replica => replica.NodeId == node)).ToList() is { Count: > 0 } left)
        {
            // It left before answering (or its channel failed: it is pulled again when it is back, and merged then).
            _awaiting.ExceptWith(left);
            (_unanswered ??= []).AddRange(left);
            if (_awaiting.Count == 0)
                FinishOpen();
        }
    }

    /// <summary>A whole state from <paramref name="nodeId"/> is merged; when it answers this replica's pull, an open waiting for it may finish.</summary>
    private void OnStateReceived(string nodeId, bool answersThisReplica)
    {
        _view.Stats.OnStateReceived();
        if (answersThisReplica && _awaiting is not null && _awaiting.Remove(nodeId) && _awaiting.Count == 0)
            FinishOpen();
    }

    private void FinishOpen()
    {
        Timers.Cancel(OpenTimerKey);
        var elapsed = (long)Stopwatch.GetElapsedTime(_openStarted).TotalMilliseconds;
        if (_unanswered is { Count: > 0 } unanswered)
            ReplicationLog.OpenedIncomplete(_log, _name, string.Join(", ", unanswered), elapsed);
        _unanswered = null;
        ReplicationLog.Opened(_log, _name, _replica, _replicas.Count, elapsed);
        _awaiting = null;
        _opener?.Tell(Opened.Instance);
        _opener = null;
    }

    /// <summary>The other nodes with a replica of this dictionary, every node of every group: each needs every write.</summary>
    private IEnumerable<RouteCandidate> OtherReplicas() =>
        _messaging.Routes.Current.Topic(_topic)?.Groups.SelectMany(group => group).Where(candidate => candidate.Peer is { SpeaksMeshProtocol: true })
        ?? [];

    /// <summary>
    /// Queues <paramref name="delta"/> for every other replica; null when all are queued already, else a task that
    /// completes when they are, and fails with <see cref="ObjectDisposedException"/> when the replica closed first:
    /// the write then reached neither those replicas nor any later state, and its writer must not think it done.
    /// </summary>
    private Task? Broadcast(byte[] delta)
    {
        List<Task<bool>>? pending = null;
        foreach (var replica in OtherReplicas())
        {
            if (Send(replica.Peer!, delta, ReplicationWire.Delta) is { } waiting)
                (pending ??= []).Add(waiting);
        }

        return pending is null ? null : AllQueuedAsync(pending);

        async Task AllQueuedAsync(List<Task<bool>> sends)
        {
            if ((await Task.WhenAll(sends).ConfigureAwait(false)).Contains(false))
                throw new ObjectDisposedException($"ReplicatedDictionary '{_name}'", $"Dictionary '{_name}' was closed while a write waited for room in a peer's queue: that replica did not get it.");
        }
    }

    /// <summary>Answers a pull now when <paramref name="nodeId"/> is a replica in the routes, else once it is; after the state going to it, if one is.</summary>
    private void OnPull(string nodeId, string asker)
    {
        if (_transfers.TryGetValue(nodeId, out var underWay))
            OnPullDuring(underWay, nodeId, asker);
        else if (Replica(nodeId) is { } asking)
            SendState(asking.Peer!, "it asked", new StateTransfer { For = asker });
        else
            _pendingPulls[nodeId] = asker;
    }

    /// <summary>
    /// A pull while a state goes to its node: the first makes one more due after it (the state going out may have been
    /// encoded before what the pull asks for), and the next ones are answered by that one too: counted, logged once.
    /// </summary>
    private void OnPullDuring(StateTransfer underWay, string nodeId, string asker)
    {
        underWay.For = asker; // the one more answers the latest replica of the node
        underWay.AnotherDue = true;
        if (!underWay.PulledDuring)
        {
            underWay.PulledDuring = true; // one more is due: no pull is coalesced yet (a state due unasked is none)
            return;
        }

        _view.Stats.OnPullCoalesced();
        if (underWay.Reported)
            return;
        underWay.Reported = true;
        ReplicationLog.PullsCoalesced(_log, _name, nodeId);
    }

    /// <summary>A state to <paramref name="nodeId"/> is queued (or gone with its replica): sends the one more due, if pulls asked for it meanwhile.</summary>
    private void OnStateTransferred(string nodeId)
    {
        if (!_transfers.TryGetValue(nodeId, out var transfer))
            return;
        if (!transfer.AnotherDue)
        {
            _transfers.Remove(nodeId);
            return;
        }

        transfer.AnotherDue = false;
        var pulled = transfer.PulledDuring;
        transfer.PulledDuring = false;
        if (Replica(nodeId) is { } asking)
        {
            // The same transfer goes on, so that a node pulling without pause is reported once, not once per state.
            if (!pulled)
                transfer.For = ReplicationWire.Unasked; // due only because a replica left: it answers no pull
            SendState(asking.Peer!, pulled ? "it asked again while a state went to it" : "a replica left", transfer);
            return;
        }

        // It asked after coming back (what it asked before it left was forgotten then), and its interest is not here
        // yet; a state due unasked has nobody to wait for.
        _transfers.Remove(nodeId);
        if (pulled)
            _pendingPulls[nodeId] = transfer.For;
    }

    /// <summary>Forgets what a node whose last channel went had asked for: it pulls again when it is back.</summary>
    private void OnLeft(string nodeId)
    {
        _pendingPulls.Remove(nodeId);
        if (_transfers.TryGetValue(nodeId, out var underWay))
            (underWay.AnotherDue, underWay.PulledDuring) = (false, false);
    }

    /// <summary>Sends this replica's state to <paramref name="replica"/> unasked (after the state going to it, if one is): merged there, it answers no pull.</summary>
    private void SendStateUnasked(RouteCandidate replica)
    {
        if (_transfers.TryGetValue(replica.NodeId, out var underWay))
            underWay.AnotherDue = true;
        else
            SendState(replica.Peer!, "a replica left", new StateTransfer { For = ReplicationWire.Unasked });
    }

    /// <summary>The other replica on node <paramref name="nodeId"/>; null when it is not in the routes.</summary>
    private RouteCandidate? Replica(string nodeId) => OtherReplicas().FirstOrDefault(replica => replica.NodeId == nodeId);

    /// <summary>
    /// Sends the whole state, the last message final, in messages of <see cref="ReplicatedDictionaryOptions{T}.StateChunkBytes"/>
    /// or what one of the peer's frames carries if less, an entry larger than that in a message of its own; off the actor,
    /// waiting for room in the peer's queue, and tells the actor <see cref="StateTransferred"/> when all is queued. An
    /// entry too large for a frame alone is left out, logged and counted: the rest still arrives.
    /// </summary>
    private void SendState(IPeer peer, string reason, StateTransfer transfer)
    {
        var messageBytes = Carried(peer.MaxFrameSize);
        var chunks = ReplicationWire.EncodeState(_replica, transfer.For, _entries.ToList(), Math.Min(_options.StateChunkBytes, messageBytes), messageBytes, out var skipped);
        _transfers[peer.NodeId] = transfer; // once encoded: a transfer that never starts must not hold later pulls back
        ReplicationLog.SendingState(_log, _name, _entries.Count - skipped.Count, peer.NodeId, reason);
        foreach (var (key, bytes) in skipped)
        {
            _view.Stats.OnSendFailure();
            ReplicationLog.SendFailed(_log, _name, "state entry", peer.NodeId, $"key '{key}' is {bytes} bytes, above the {messageBytes} bytes a message to it may hold (its max_frame is {peer.MaxFrameSize})");
        }

        var self = Self;
        _ = SendAllAsync();

        async Task SendAllAsync()
        {
            foreach (var chunk in chunks)
            {
                if (Send(peer, chunk, ReplicationWire.State) is { } waiting && !await waiting.ConfigureAwait(false))
                    return; // the replica closed
            }

            _view.Stats.OnStateSent();
            self.Tell(new StateTransferred(peer.NodeId), ActorRefs.NoSender);
        }
    }

    /// <summary>Queues one message for <paramref name="peer"/>; null when queued at once (or failed, logged here), else a task that completes when queued or failed, with false only when the replica closed first.</summary>
    /// <remarks>A message above the peer's frame limit is not queued, and one the peer layer drops later for its size is reported here too: neither goes unseen.</remarks>
    private Task<bool>? Send(IPeer peer, byte[] data, string kind)
    {
        if (data.Length > Carried(peer.MaxFrameSize))
        {
            OnSendFailed(peer, kind, new FrameTooLargeException(data.Length + _envelopeOverhead, peer.MaxFrameSize));
            return null;
        }

        ValueTask send;
        try
        {
            // A state or a pull is the repair itself, and is never sent again on its own: it waits for room whatever
            // the overflow policy, as announcements do. A refused delta is repaired by the next re-sync.
            var pub = new Envelope.Pub(_topic, data);
            send = kind == ReplicationWire.Delta ? peer.SendAsync(pub, _stopping.Token) : peer.SendWaitingAsync(pub, _stopping.Token);
        }
        catch (Exception ex)
        {
            OnSendFailed(peer, kind, ex);
            return null;
        }

        return send.IsCompletedSuccessfully ? null : AwaitAsync(send);

        async Task<bool> AwaitAsync(ValueTask sending)
        {
            try
            {
                await sending.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return false;
            }
            catch (Exception ex)
            {
                OnSendFailed(peer, kind, ex);
            }

            return true;
        }
    }

    /// <summary>The most data a <c>pub</c> on this dictionary's topic carries in a frame of <paramref name="maxFrameSize"/> bytes.</summary>
    private int Carried(int maxFrameSize) => maxFrameSize - _envelopeOverhead;

    /// <summary>Refuses a write whose delta the smallest frame limit among this node and the replicas in its routes cannot carry: it would reach none of those.</summary>
    /// <exception cref="ArgumentException">The delta is too large; says its size, the limit and whose it is.</exception>
    private void EnsureFits(string key, int deltaBytes)
    {
        var (limit, whose) = (_maxFrameSize, "this node's own");
        foreach (var replica in OtherReplicas())
        {
            if (replica.Peer!.MaxFrameSize < limit)
                (limit, whose) = (replica.Peer.MaxFrameSize, $"replica node {replica.NodeId}'s");
        }

        if (deltaBytes > Carried(limit))
        {
            throw new ArgumentException(
                $"Dictionary '{_name}' cannot write key '{key}': its delta is {deltaBytes} bytes, above the {Carried(limit)} bytes that a {limit}-byte frame ({whose} max_frame, the smallest among this node and its replicas) carries in a pub on the dictionary's topic.",
                "value");
        }
    }

    /// <summary>Counts and logs a message that could not be sent, unless its peer left or the replica stopped. Thread-safe: a sender off the actor and the peer layer call it too.</summary>
    private void OnSendFailed(IPeer peer, string kind, Exception ex)
    {
        // A peer that left misses it, and gets the whole state when it is back; a replica that closes stops sending.
        if (ex is PeerUnavailableException or OperationCanceledException)
            return;
        _view.Stats.OnSendFailure();
        ReplicationLog.SendFailed(_log, _name, kind, peer.NodeId, ex.Message);
    }

    /// <summary>Tells the actor after every change of the routing table, until the replica stops.</summary>
    private static async Task WatchRoutesAsync(Routes routes, IActorRef self, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            var next = routes.NextChange;
            self.Tell(RoutesChanged.Instance, ActorRefs.NoSender);
            try
            {
                await next.WaitAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Starts the replica; answered with <see cref="Opened"/> once the replicas known have sent their state, or at the open timeout.</summary>
    internal sealed class Open
    {
        public static readonly Open Instance = new();
    }

    /// <summary>The answer to <see cref="Open"/>.</summary>
    internal sealed class Opened
    {
        public static readonly Opened Instance = new();
    }

    /// <summary>A state going to one node: whether pulls asked for one more after it, and whether their burst was logged.</summary>
    private sealed class StateTransfer
    {
        public bool AnotherDue;
        public bool PulledDuring; // a pull arrived while this state went out: the one more answers it and any later ones
        public bool Reported;

        /// <summary>The replica whose pull the next state answers: the latest of the node's to ask.</summary>
        public required string For;
    }

    /// <summary>Every message of a state to <see cref="NodeId"/> is queued for it.</summary>
    private sealed record StateTransferred(string NodeId);

    private sealed class RoutesChanged
    {
        public static readonly RoutesChanged Instance = new();
    }

    private sealed class OpenTimedOut
    {
        public static readonly OpenTimedOut Instance = new();
    }
}
