using System.Net;
using MeshActors.Actors;
using MeshActors.Discovery;

namespace MeshActors.Peers;

/// <summary>Who to dial and when: members from discovery, explicit targets, the dial rule, backoff.</summary>
internal sealed partial class PeerManagerActor
{
    private readonly Dictionary<string, DialTarget> _targets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MeshMember> _members = new(StringComparer.Ordinal);

    // The dial rule (docs/architecture.md, "Peers and the data plane"): of two mesh nodes the one with the smaller id
    // dials, so that the channel both keep (docs/protocol.md 7.4) is usually the only one ever opened; the other waits
    // a grace for it. A plain Marketrix member never dials a MeshActors node it has not heard of: always dial it.
    private void OnMember(MeshMember member)
    {
        if (member.Id == _nodeId)
        {
            return;
        }

        _members[member.Id] = member;
        var address = new DnsEndPoint(member.Host, member.Port);
        if (!_targets.TryGetValue(member.Id, out var target))
        {
            target = _targets[member.Id] = new DialTarget(member.Id, address) { NodeId = member.Id };
        }
        else if (!target.Address.Equals(address))
        {
            // A new address is dialed at once: neither the failures at the old one nor their backoff count.
            target.Address = address;
            target.Stale = false;
            target.Failures = 0;
            target.Dialed = false;
            Timers.Cancel(DialTimerKey(member.Id));
        }

        target.Plain = member.ProtocolVersion == 0;
        target.DialsFirst = target.Plain || string.CompareOrdinal(_nodeId, member.Id) < 0;
        _ = EnsureDial(target);
    }

    private void OnMemberDown(MeshMember member, MemberDownReason reason)
    {
        _members.Remove(member.Id);
        if (_targets.Remove(member.Id))
        {
            Timers.Cancel(DialTimerKey(member.Id));
        }

        // A connected peer keeps its channel, which has its own liveness check; it is forgotten once that ends. One
        // still dialed explicitly (ConnectPeer) keeps its link and queue, as the end of its channel does.
        if (_directory.Find(member.Id) is { IsConnected: false } link && link.Channels.Count == 0 && !IsWanted(member.Id))
        {
            RemoveLink(link, $"it left the mesh ({reason})");
        }
    }

    private void OnConnectPeer(ConnectPeer connect)
    {
        var address = new DnsEndPoint(connect.Host, connect.Port);
        var key = DialTarget.ExplicitPrefix + PeerLog.Format(address);
        if (!_targets.TryGetValue(key, out var target))
        {
            target = _targets[key] = new DialTarget(key, address) { DialsFirst = true };
        }

        _ = EnsureDial(target);
    }

    private void OnDialTick(string key)
    {
        if (_targets.TryGetValue(key, out var target))
        {
            _ = EnsureDial(target, due: true);
        }
    }

    /// <summary>
    /// Dials <paramref name="target"/> now (when <paramref name="due"/>, or on a first dial that need not wait) or
    /// schedules it, unless it is connected, being dialed, or already scheduled; returns the delay when it scheduled a dial.
    /// </summary>
    private TimeSpan? EnsureDial(DialTarget target, bool due = false)
    {
        var timer = DialTimerKey(target.Key);
        if (_stopping || target.Stale || target.Connection is not null || Timers.IsTimerActive(timer)
            || (target.NodeId is { } nodeId && _directory.Find(nodeId) is { IsConnected: true }))
        {
            return null;
        }

        var delay = due || !target.Dialed
            ? TimeSpan.Zero
            : BackoffSupervisor.CalculateDelay(Math.Max(0, target.Failures - 1), _options.ReconnectMinBackoff, _options.ReconnectMaxBackoff, _options.ReconnectRandomFactor);
        if (!due && !target.DialsFirst)
        {
            delay = delay > _options.DialGrace ? delay : _options.DialGrace;
        }

        if (delay > TimeSpan.Zero)
        {
            Timers.StartSingleTimer(timer, new DialTick(target.Key), delay);
            return delay;
        }

        target.Dialed = true;
        var actor = Context.Watch(Context.ActorOf(
            PeerConnectionActor.Dialing(target.Address, offerProtocol: !target.Plain, _settings), NextChildName("out")));
        target.Connection = actor;
        _connections[actor] = new ConnectionEntry(actor, target);
        return null;
    }

    /// <summary>The dial of <paramref name="target"/> by <paramref name="entry"/> is over; count a failure and try again later if the peer is still wanted.</summary>
    private void OnDialEnded(ConnectionEntry entry, DialTarget target, ChannelEnd end)
    {
        target.Connection = null;
        if (_stopping || !ReferenceEquals(_targets.GetValueOrDefault(target.Key), target))
        {
            return; // this node is leaving (its own goodbye ended the dial: no failure), or the member left
        }

        // A channel that carried the peer, or lost to another one that does, was a success.
        var failed = !entry.Carried && !entry.Retired;
        if (failed && ++target.Failures == 1)
        {
            PeerLog.Unreachable(_logger, PeerLog.Format(target.Address), end.Reason);
        }

        if (EnsureDial(target) is { } delay && failed)
        {
            PeerLog.DialRetry(_logger, PeerLog.Format(target.Address), target.Failures, delay.TotalMilliseconds, end.Reason);
        }
    }

    /// <summary>A peer lost its last channel: the targets that lead to it start dialing again (after the grace when the peer should dial).</summary>
    private void RedialTargetsOf(string nodeId)
    {
        foreach (var target in _targets.Values)
        {
            if (target.NodeId == nodeId)
            {
                _ = EnsureDial(target);
            }
        }
    }

    /// <summary>Whether the manager should keep the link of a node while it has no channel: it is a member or an explicit target.</summary>
    private bool IsWanted(string nodeId) =>
        _members.ContainsKey(nodeId) || _targets.Values.Any(target => target.NodeId == nodeId);

    private static string DialTimerKey(string targetKey) => "dial:" + targetKey;

    private sealed record DialTick(string Key);
}
