using MeshActors.Actors;
using MeshActors.Protocol;

namespace MeshActors.Peers;

/// <summary>Which channel carries which peer: links, duplicates, connect and disconnect.</summary>
internal sealed partial class PeerManagerActor
{
    private void OnHandshaken(IActorRef actor, PeerIdentity identity)
    {
        if (!_connections.TryGetValue(actor, out var entry))
        {
            return;
        }

        entry.Identity = identity;
        if (_stopping)
        {
            actor.Tell(new PeerConnectionActor.AssignLink(null, Attachment: null, Envelope.Bye.Shutdown));
            return;
        }

        var nodeId = identity.NodeId ?? PlainNodeId(entry, identity);
        if (nodeId == _nodeId)
        {
            PeerLog.SelfConnection(_logger, PeerLog.Format(identity.RemoteEndPoint));
            entry.Target?.Stale = true;
            actor.Tell(new PeerConnectionActor.AssignLink(null, Attachment: null, "the channel leads back to the same node"));
            return;
        }

        if (entry.Target is { } target)
        {
            if (target.NodeId is null)
            {
                target.NodeId = nodeId;
            }
            else if (target.NodeId != nodeId && target.IsExplicit)
            {
                // An explicit target is the address, whoever answers there: a node restarted at it has a new id
                // (docs/protocol.md), and the one it replaced is forgotten once nothing else wants it.
                var replaced = target.NodeId;
                target.NodeId = nodeId;
                PeerLog.TargetNodeChanged(_logger, PeerLog.Format(target.Address), replaced, nodeId);
                if (_directory.Find(replaced) is { IsConnected: false } old && old.Channels.Count == 0 && !IsWanted(replaced))
                {
                    RemoveLink(old, $"node {nodeId} answers at its address now");
                }
            }
            else if (target.NodeId != nodeId)
            {
                PeerLog.StaleAddress(_logger, target.NodeId, PeerLog.Format(target.Address), nodeId);
                target.Stale = true;
                // The channel stays the other node's; the target is free to dial the member where it registers next.
                target.Connection = null;
            }
        }

        var link = _directory.Find(nodeId);
        if (link is null)
        {
            // A Marketrix listener names itself in no header: it goes by the name it registered.
            var name = identity.Name ?? (_members.TryGetValue(nodeId, out var member) ? member.Name : nodeId);
            link = new PeerLink(nodeId, name, _options, _directory.Totals, _handler);
            _directory.Add(link);
        }

        if (identity.Incarnation is { } run && link.HasEnded(run))
        {
            if (link.IsConnected)
            {
                // A late channel of a run the peer has restarted from: it would take the peer back from its live run.
                PeerLog.EndedRun(_logger, nodeId, run, entry.ToString());
                entry.Retired = true;
                Context.Stop(actor); // its PostStop aborts the channel: a reset
                return;
            }

            // Nothing carries the peer: this run is the one that dials, and was taken for ended by mistake (a dead
            // run's late hello ended it; runs have no order). Turned away, it could never connect again.
            link.OnRunLive(run);
        }

        entry.Link = link;
        link.Channels.Add(entry);
        UpdateChannelCount();
        if (link.Attached is not { } current)
        {
            Attach(link, entry);
        }
        else if (!identity.SpeaksMeshProtocol)
        {
            // A plain peer cannot be told that a channel is a duplicate: the channel stands by, delivering what comes in.
            actor.Tell(new PeerConnectionActor.AssignLink(link, Attachment: null));
        }
        else if (Outranks(entry, current))
        {
            current.Retired = true;
            if (!identity.IsLaterRunThan(current.Identity!))
            {
                PeerLog.DuplicateChannel(_logger, nodeId, entry.ToString(), current.ToString());
                current.Actor.Tell(new PeerConnectionActor.Retire(Envelope.Bye.Duplicate));
            }

            Attach(link, entry, takeover: true); // a later run's: the old run's channels are reset there
        }
        else
        {
            PeerLog.DuplicateChannel(_logger, nodeId, current.ToString(), entry.ToString());
            entry.Retired = true;
            actor.Tell(new PeerConnectionActor.AssignLink(link, Attachment: null, Envelope.Bye.Duplicate));
        }
    }

    // docs/protocol.md 7.4: a channel from a later run of the peer wins (the old run is gone, whoever dialed its channel,
    // and only this node sees both). Otherwise, of two channels between the same nodes, the one dialed by the node with
    // the smaller id stays. Both ends compute the same answer; between two channels dialed by the same node (a member
    // and an explicit target at the same address), the one with the smaller session id stays, which both ends also
    // agree on.
    private bool Outranks(ConnectionEntry candidate, ConnectionEntry current)
    {
        if (candidate.Identity!.IsLaterRunThan(current.Identity!))
        {
            return true;
        }

        var byDialer = string.CompareOrdinal(DialerOf(candidate), DialerOf(current));
        if (byDialer != 0)
        {
            return byDialer < 0;
        }

        return (candidate.Identity!.SessionId, current.Identity!.SessionId) switch
        {
            (null, _) => false,
            (_, null) => true,
            (var mine, var theirs) => string.CompareOrdinal(mine, theirs) < 0,
        };

        string DialerOf(ConnectionEntry entry) => entry.Identity!.Outbound ? _nodeId : entry.Link!.NodeId;
    }

    // A plain channel has no hello: the member it was dialed for, else the only member of that name, else an id made
    // from the name and the address (an inbound one then lives only as long as its channel).
    private string PlainNodeId(ConnectionEntry entry, PeerIdentity identity)
    {
        if (entry.Target?.NodeId is { } known)
        {
            return known;
        }

        var name = identity.Name ?? "?";
        if (!identity.Outbound)
        {
            // Only a plain registration: a mesh node of the same name is another node, whose channels say hello.
            var named = _members.Values.Where(member => member.Name == name && member.ProtocolVersion == 0).Take(2).ToList();
            if (named.Count == 1)
            {
                return named[0].Id;
            }
        }

        return $"plain:{name}@{PeerLog.Format(identity.RemoteEndPoint)}";
    }

    // A takeover is a channel that replaces one that carried the link, or that the peer kept when it ended the one that
    // did (bye duplicate): the peer started it afresh, and may have dropped the old one first and forgotten this node's
    // announcement with it, so the handler hears of a connection again (docs/protocol.md 5.7).
    private void Attach(PeerLink link, ConnectionEntry entry, bool takeover = false)
    {
        var keptChannel = Timers.IsTimerActive(KeptChannelTimerKey(link.NodeId));
        Timers.Cancel(KeptChannelTimerKey(link.NodeId));
        var wasConnected = link.IsConnected;
        var previousRun = link.Incarnation;
        link.Incarnation = entry.Identity!.Incarnation;
        link.Attached = entry;
        entry.Carried = true;
        // Whoever dialed the channel: the peer is reachable again, and the next outage backs off from the start.
        foreach (var target in _targets.Values)
        {
            if (target.NodeId == link.NodeId || ReferenceEquals(target, entry.Target))
            {
                target.Failures = 0;
            }
        }

        link.OnAttached(entry.Identity!);
        if (!wasConnected)
        {
            if (link.WasConnected)
            {
                link.Stats.OnReconnected();
            }

            link.WasConnected = true;
            PeerLog.Connected(_logger, link.Name, link.NodeId, entry.ToString());
            // Before the channel's loops start, so that the handler hears of the peer before its first envelope.
            Notify(() => _handler.OnPeerConnected(link));
            Context.System.EventStream.Publish(new PeerConnected(
                link.NodeId, link.Name, link.SpeaksMeshProtocol, entry.Identity!.Outbound, entry.Identity.RemoteEndPoint));
        }
        else if (takeover || keptChannel)
        {
            if (previousRun is { } before && entry.Identity.Incarnation is { } now && before != now)
            {
                link.OnRunEnded(before);
                EndPreviousRun(link, entry);
            }

            Notify(() => _handler.OnPeerConnected(link));
        }

        // Numbered, because the connection actors carry out their attachments in no particular order between them.
        entry.Actor.Tell(new PeerConnectionActor.AssignLink(link, link.NextAttachment()));
    }

    private void OnConnectionEnded(IActorRef actor, ChannelEnd end)
    {
        if (!_connections.Remove(actor, out var entry))
        {
            return;
        }

        Context.Unwatch(actor);
        Context.Stop(actor);
        UpdateChannelCount();
        if (entry.Link is { } link)
        {
            link.Channels.Remove(entry);
            if (ReferenceEquals(link.Attached, entry))
            {
                link.Attached = null;
                if (link.Channels.FirstOrDefault(channel => !channel.Retired) is { } standby)
                {
                    Attach(link, standby);
                }
                else if (end.PeerKeptAnother)
                {
                    // The peer said this one is the duplicate of a channel it keeps, whose handshake may arrive here only
                    // now, on another connection: the peer stays connected, what is in flight with it goes on, and the
                    // queue waits for that channel (for as long as a dial and a handshake may take).
                    Timers.StartSingleTimer(KeptChannelTimerKey(link.NodeId), new KeptChannelOverdue(link.NodeId), _keptChannelWait);
                }
                else
                {
                    Disconnect(link, end);
                }
            }

            if (!link.IsConnected && link.Channels.Count == 0 && !IsWanted(link.NodeId))
            {
                RemoveLink(link, end.Reason);
            }
        }

        if (entry.Target is { } target && ReferenceEquals(target.Connection, actor))
        {
            OnDialEnded(entry, target, end);
        }

        if (_stopping)
        {
            TryFinishStop();
        }
    }

    // The peer restarted with its node id (its hello names another run) while its old run's channel stood. That channel
    // is reset, so that nothing the old run still sends reaches the handler as the new run's, and what was in flight
    // with the old run ends as at a disconnect: this node's requests fail (an idempotent one may go elsewhere), the old
    // run's requests are dropped with their answers, and what was queued for it is dropped too (docs/protocol.md 7.4).
    private void EndPreviousRun(PeerLink link, ConnectionEntry entry)
    {
        foreach (var old in link.Channels.Where(channel => channel.Identity!.Incarnation != entry.Identity!.Incarnation).ToList())
        {
            old.Retired = true;
            Context.Stop(old.Actor); // its PostStop aborts the channel: a reset
        }

        // What was queued is dropped first: its requests were never sent, so their callers hear so (unavailable: another
        // provider may run them, idempotent or not). Then the handler fails what was written, in flight to the old run.
        // Then the queue is emptied once more: of answers to the old run that were waiting for room (the handler made
        // them give up) and of requests queued meanwhile.
        var dropped = link.Queue.DropQueued(req => AnswerUnsent(link, req, "restarted"));
        Notify(() => _handler.OnPeerDisconnected(link, new PeerClosedException("the peer restarted")));
        dropped += link.Queue.DropQueued(req => AnswerUnsent(link, req, "restarted"));
        PeerLog.PeerRestarted(_logger, link.NodeId, entry.ToString(), dropped);
        link.Queue.Wake();
    }

    // This node's requests to a peer whose channels are gone: those the queue still holds no channel took, so their
    // callers hear first that they were never sent (unavailable: another provider may run them, idempotent or not);
    // then the handler fails what was written. With a channel still there, what it may be writing is left to it.
    private void EndRequests(PeerLink link, Exception? reason, string what)
    {
        if (link.Channels.Count == 0)
        {
            foreach (var req in link.Queue.QueuedRequests)
                AnswerUnsent(link, req, what);
        }

        Notify(() => _handler.OnPeerDisconnected(link, reason));
    }

    private void AnswerUnsent(PeerLink link, Envelope.Req req, string what)
    {
        if (_handler.IsAwaited(link.NodeId, req))
            Notify(() => _ = _handler.OnEnvelope(link, new Envelope.Err(ErrorCodes.Unavailable, $"Request {req.Id} was never sent: node {link.NodeId} {what}.") { Id = req.Id }));
    }

    private void OnKeptChannelOverdue(string nodeId)
    {
        if (_directory.Find(nodeId) is { Attached: null, IsConnected: true } link)
        {
            Disconnect(link, new ChannelEnd("the channel the peer kept never came"));
            if (link.Channels.Count == 0 && !IsWanted(link.NodeId))
            {
                RemoveLink(link, "the channel the peer kept never came");
            }
        }
    }

    private static string KeptChannelTimerKey(string nodeId) => "kept:" + nodeId;

    private sealed record KeptChannelOverdue(string NodeId);

    private void Disconnect(PeerLink link, ChannelEnd end)
    {
        link.OnDetached();
        PeerLog.Disconnected(_logger, link.Name, link.NodeId, end.Reason);
        EndRequests(link, end.Error, "lost its channel");
        // After the handler failed the requests to the peer: a sender waiting for room for one of them gives up, and
        // whoever waits for the queue to be sent stops waiting.
        link.Queue.Wake();
        Context.System.EventStream.Publish(new PeerDisconnected(link.NodeId, link.Name, end.Reason));
        RedialTargetsOf(link.NodeId);
    }

    private void RemoveLink(PeerLink link, string reason)
    {
        // The queue closes first, so that whoever no longer finds the peer can no longer queue to it either.
        var dropped = link.Queue.Close($"it is gone ({reason})");
        _directory.Remove(link);
        PeerLog.PeerRemoved(_logger, link.NodeId, reason, dropped);
    }

    private void CloseAllLinks(string reason)
    {
        foreach (var peer in _directory.Peers)
        {
            var link = (PeerLink)peer;
            // Still connected: the channel the peer kept was awaited. Its requests end now, not at their timeout.
            if (link.IsConnected)
                EndRequests(link, new PeerClosedException(reason), "was awaited on another channel as this node stopped");

            link.Queue.Close(reason);
            _directory.Remove(link);
            link.OnDetached();
        }
    }

    // The handler is the messaging layer's code: its failure is logged, and the peer layer goes on.
    private void Notify(Action call)
    {
        try
        {
            call();
        }
        catch (Exception e)
        {
            PeerLog.HandlerFailed(_logger, "connect/disconnect", "-", e);
        }
    }
}
