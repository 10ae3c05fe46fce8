using System.Diagnostics;
using MeshActors.Actors;

namespace MeshActors.Discovery;

/// <summary>The registry actor's view of the other members, and who hears about its changes.</summary>
public sealed partial class RegistryActor
{
    private readonly Dictionary<string, Known> _members = new(StringComparer.OrdinalIgnoreCase);

    // Nodes announced as leaving, and when. A leave is announced before the registration is removed, so listings
    // may still show the node for a moment: they are ignored for two TTLs, unless the node announces itself again.
    private readonly Dictionary<string, long> _departed = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<IActorRef> _subscribers = [];

    // Ids listed under two registrations at the last listing, warned about once while it lasts.
    private HashSet<string> _duplicateIds = new(StringComparer.OrdinalIgnoreCase);
    private long _removalsSuspendedUntil;

    private void ReceiveMembership()
    {
        Receive<GetMembers>(_ => Sender.Tell(Current()));
        Receive<SubscribeMembers>(subscribe =>
        {
            if (_subscribers.Add(subscribe.Subscriber))
                Context.Watch(subscribe.Subscriber);
            subscribe.Subscriber.Tell(Current(), Self);
        });
        Receive<UnsubscribeMembers>(unsubscribe =>
        {
            if (_subscribers.Remove(unsubscribe.Subscriber))
                Context.Unwatch(unsubscribe.Subscriber);
        });
        Receive<Terminated>(terminated => _subscribers.Remove(terminated.ActorRef));
    }

    private CurrentMembers Current() => new(_members.Values.Select(known => known.Member).ToArray());

    /// <summary>Applies a full listing that began at <paramref name="startedAt"/>: a member it lacks has expired, unless it was announced since.</summary>
    private void Reconcile(RegistryListing listing, long startedAt)
    {
        var now = Stopwatch.GetTimestamp();
        var listed = new HashSet<string>(listing.Members.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var member in OnePerId(listing.Members))
        {
            if (IsSelf(member.Id))
                continue;
            listed.Add(member.Id);
            if (_departed.ContainsKey(member.Id))
                continue;
            if (_members.TryGetValue(member.Id, out var known) && known.AnnouncedAt >= startedAt)
                continue; // announced while the listing was read: the announcement is the newer of the two
            Upsert(member, now);
        }

        if (now >= _removalsSuspendedUntil)
        {
            foreach (var known in _members.Values.Where(k => k.ConfirmedAt < startedAt && !listed.Contains(k.Member.Id)).ToArray())
                Remove(known.Member, MemberDownReason.Expired);
        }

        var forgetBefore = now - (long)(_options.Ttl.TotalSeconds * 2 * Stopwatch.Frequency);
        foreach (var (id, _) in _departed.Where(d => d.Value < forgetBefore).ToArray())
            _departed.Remove(id);
    }

    // Two registrations with one id (a node restarted under another name before its old entry expired, or a forgery):
    // the same one stands for the id at every listing, the one already known or else the newest, or the member would
    // flip between the two at every heartbeat.
    private List<MeshMember> OnePerId(IReadOnlyList<MeshMember> members)
    {
        var chosen = new List<MeshMember>(members.Count);
        var duplicates = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var group in members.GroupBy(member => member.Id, StringComparer.OrdinalIgnoreCase))
        {
            if (group.Skip(1).Any())
            {
                duplicates.Add(group.Key);
                if (!_duplicateIds.Contains(group.Key))
                    Log.DuplicateId(_log, group.Key, string.Join(", ", group.Select(member => $"{member.Name} at {member.Address}")));
            }

            chosen.Add(_members.TryGetValue(group.Key, out var known) && group.Contains(known.Member)
                ? known.Member
                : group.OrderByDescending(member => member.StartedAt).ThenBy(member => member.Name, StringComparer.Ordinal).First());
        }

        _duplicateIds = duplicates;
        return chosen;
    }

    private void OnAnnounced(RegistryChange change)
    {
        if (IsSelf(change.NodeId) || _left)
            return;

        switch (change)
        {
            case MemberRegistered registered:
                _departed.Remove(registered.NodeId);
                var now = Stopwatch.GetTimestamp();
                Upsert(registered.Member, now);
                _members[registered.NodeId].AnnouncedAt = now;
                break;
            case MemberDeregistered:
                _departed[change.NodeId] = Stopwatch.GetTimestamp();
                if (_members.TryGetValue(change.NodeId, out var known))
                    Remove(known.Member, MemberDownReason.Left);
                break;
        }
    }

    private void Upsert(MeshMember member, long confirmedAt)
    {
        if (_members.TryGetValue(member.Id, out var known))
        {
            known.ConfirmedAt = Math.Max(known.ConfirmedAt, confirmedAt);
            if (known.Member.Equals(member))
                return;
            known.Member = member;
            Log.MemberUpdated(_log, member.Id, member.Name, member.Address);
            Publish(new MemberUpdated(member));
            return;
        }

        _members[member.Id] = new Known(member, confirmedAt);
        Log.MemberUp(_log, member.Id, member.Name, member.Address);
        Publish(new MemberUp(member));
    }

    private void Remove(MeshMember member, MemberDownReason reason)
    {
        _members.Remove(member.Id);
        Log.MemberDown(_log, reason, member.Id, member.Name, member.Address);
        Publish(new MemberDown(member, reason));
    }

    private void Publish(MemberEvent memberEvent)
    {
        Context.System.EventStream.Publish(memberEvent);
        foreach (var subscriber in _subscribers)
            subscriber.Tell(memberEvent, Self);
    }

    private bool IsSelf(string id) => string.Equals(id, _self.Id, StringComparison.OrdinalIgnoreCase);

    /// <summary>A member and when it was last confirmed alive (listed or announced), in <see cref="Stopwatch"/> ticks.</summary>
    private sealed class Known(MeshMember member, long confirmedAt)
    {
        public MeshMember Member { get; set; } = member;

        public long ConfirmedAt { get; set; } = confirmedAt;

        /// <summary>When the member last announced itself (0 when never): a listing begun before then is older news.</summary>
        public long AnnouncedAt { get; set; }
    }
}
