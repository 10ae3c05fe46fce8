using System.Diagnostics.Metrics;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Replication;

namespace MeshActors;

/// <summary>
/// A node's counters as System.Diagnostics.Metrics instruments on the meter <c>MeshActors</c>, for dotnet-counters and
/// OpenTelemetry. Every measurement carries the node's name and id, so that several nodes in one process stay apart.
/// </summary>
/// <remarks>
/// Every instrument is observable: it reads, when a listener collects, the counters the node keeps anyway
/// (<see cref="PeerStats"/>, <see cref="MessagingStats"/>), so metrics cost the hot path nothing. The meter lives as
/// long as the node runs. docs/architecture.md lists the instruments.
/// </remarks>
internal sealed class MeshMetrics : IDisposable
{
    /// <summary>The name of the meter every node's instruments are on.</summary>
    public const string MeterName = "MeshActors";

    private static readonly KeyValuePair<string, object?> Transmit = new("network.io.direction", "transmit");
    private static readonly KeyValuePair<string, object?> Receive = new("network.io.direction", "receive");

    private readonly Meter _meter;
    private readonly KeyValuePair<string, object?>[] _node;

    public MeshMetrics(
        string nodeName, string nodeId, PeerDirectory peers, MessagingStats messaging, Func<int> members, Func<IEnumerable<(string Name, ReplicationStats Stats)>> dictionaries, IMeterFactory? factory)
    {
        _node = [new("meshactors.node.name", nodeName), new("meshactors.node.id", nodeId)];

        // A meter of its own, in the factory's scope: a factory's meters are the factory's, and disposing one does
        // nothing, so a stopped node's instruments would go on (holding the node) until the host's container is gone.
        _meter = new Meter(new MeterOptions(MeterName) { Tags = _node, Scope = factory });

        var totals = peers.Totals;
        Both("meshactors.peer.frames", "{frame}", "Frames written to and read from peers, handshakes excluded.", () => (totals.FramesSent, totals.FramesReceived));
        Both("meshactors.peer.bytes", "By", "Bytes of those frames, length prefixes included.", () => (totals.BytesSent, totals.BytesReceived));
        Count("meshactors.peer.dropped", "{envelope}", "Envelopes not sent: refused at a queue's cap, left queued when a peer left, or unsendable.", () => totals.Dropped);
        Count("meshactors.peer.reconnects", "{reconnect}", "Times a peer was connected again after a disconnect.", () => totals.Reconnects);
        Count("meshactors.peer.bad_frames", "{frame}", "Frames from peers that were rejected (docs/protocol.md 9.1).", () => totals.BadFrames);
        Count("meshactors.peer.liveness_timeouts", "{channel}", "Channels closed because nothing arrived within the liveness timeout.", () => totals.LivenessTimeouts);
        Now("meshactors.peers.connected", "{peer}", "Peers with a channel now.", () => peers.Peers.Count(peer => peer.IsConnected));
        Now("meshactors.channels.open", "{channel}", "Handshaken channels open now.", () => peers.ChannelCount);
        Now("meshactors.members", "{node}", "Other nodes the registry shows now.", members);

        Count("meshactors.messaging.dropped_sends", "{envelope}", "Envelopes not queued because a peer's queue was full or the peer was gone.", () => messaging.DroppedSends);
        Count("meshactors.messaging.undeliverable", "{message}", "Topic messages that arrived for a topic nobody here listens to any more.", () => messaging.Undeliverable);
        Count("meshactors.messaging.dropped_attachments", "{message}", "Messages not sent to a peer that does not accept binary attachments.", () => messaging.DroppedAttachments);
        Count("meshactors.messaging.subscriber_failures", "{message}", "Messages a callback subscriber could not read or whose callback threw.", () => messaging.SubscriberFailures);
        Count("meshactors.messaging.subscribers_behind", "{event}", "Times a callback subscriber fell so far behind that what feeds it waited.", () => messaging.SubscribersBehind);
        Count("meshactors.messaging.handler_failures", "{request}", "Requests whose handler failed.", () => messaging.HandlerFailures);
        Count("meshactors.messaging.no_service_answers", "{request}", "Requests for a service this node does not host.", () => messaging.NoServiceAnswers);
        Count("meshactors.messaging.unmatched_answers", "{answer}", "Answers for requests nobody waits for any more.", () => messaging.UnmatchedAnswers);

        PerDictionary(dictionaries, "meshactors.replication.bad_messages", "{message}", "Replication messages refused whole (docs/replication.md, Bad input).", stats => stats.BadMessages);
        PerDictionary(dictionaries, "meshactors.replication.bad_versions", "{version}", "Replicated versions refused alone for breaking the format (docs/replication.md, Bad input).", stats => stats.BadVersions);
        PerDictionary(dictionaries, "meshactors.replication.bad_values", "{version}", "Replicated values refused because they are not the dictionary's type.", stats => stats.BadValues);
        PerDictionary(dictionaries, "meshactors.replication.conflicts", "{conflict}", "Times a replica found concurrent writes to a key.", stats => stats.Conflicts);
        PerDictionary(dictionaries, "meshactors.replication.handler_failures", "{call}", "Change, conflict or resolver calls that threw.", stats => stats.HandlerFailures + stats.ResolverFailures);
        PerDictionary(dictionaries, "meshactors.replication.send_failures", "{message}", "Replication messages that could not be queued for a peer that had not left.", stats => stats.SendFailures);
        PerDictionary(dictionaries, "meshactors.replication.pulls_coalesced", "{pull}", "Pulls answered by a state already due to their node rather than one of their own.", stats => stats.PullsCoalesced);
    }

    public void Dispose() => _meter.Dispose();

    private void Count(string name, string unit, string description, Func<long> read) =>
        _meter.CreateObservableCounter(name, () => new Measurement<long>(read(), _node), unit, description);

    private void Now(string name, string unit, string description, Func<int> read) =>
        _meter.CreateObservableUpDownCounter(name, () => new Measurement<int>(read(), _node), unit, description);

    /// <summary>A counter with one measurement per dictionary open on the node, tagged with its name.</summary>
    private void PerDictionary(Func<IEnumerable<(string Name, ReplicationStats Stats)>> dictionaries, string name, string unit, string description, Func<ReplicationStats, long> read) =>
        _meter.CreateObservableCounter(
            name,
            () => dictionaries().Select(open => new Measurement<long>(read(open.Stats), [.. _node, new("meshactors.dictionary.name", open.Name)])),
            unit,
            description);

    private void Both(string name, string unit, string description, Func<(long Sent, long Received)> read)
    {
        KeyValuePair<string, object?>[] sent = [.. _node, Transmit], received = [.. _node, Receive];
        _meter.CreateObservableCounter<long>(
            name,
            () =>
            {
                var (sentCount, receivedCount) = read();
                return (Measurement<long>[])[new(sentCount, sent), new(receivedCount, received)];
            },
            unit,
            description);
    }
}
