using System.Text.Json;
using System.Text.Json.Serialization;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Replication;
using Xunit.Abstractions;
using MeshActors.Tests.Mesh;

namespace MeshActors.Tests.Replication;

using MeshActors.TestKit;

/// <summary>
/// How a replica answers pulls: one state transfer at a time per asking node, no pull kept for a node that left, every
/// entry a later replica can read in it, and the states it sends unasked when a replica leaves (docs/protocol.md 14.3).
/// </summary>
public sealed class StateTransferSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    [Fact]
    public async Task Pulls_that_arrive_while_a_state_goes_out_must_be_answered_by_one_more_state_not_one_each()
    {
        var a = await Start("a", peers: new PeerOptions { BackpressureBytes = 64 * 1024 });
        var b = await Start("b", messaging: new MessagingOptions { SubscriberBacklogLimit = 2 });
        await WaitConnected(a, b);
        var atA = await Open<string>(a, "d");
        await atA.SetAsync("k", "v");
        var spy = CreateTestProbe();
        await b.Subscribe("$dict/d", spy.Ref).Ready; // b is a replica in a's routes, one that pulls as often as it likes
        Assert.Equal("pull", Kind(spy.ExpectMsg<TopicMessage>())); // a asks b for its state, as it asks every replica that appears

        // Hold b's channel from a (a callback subscriber that does not return stops it reading), then fill a's queue to b:
        // a state to b now waits for room, under way until the queue is released.
        var release = await StallQueue(a, b);

        var pull = JsonElement.Parse("""{"v":1,"kind":"pull","replica":"greedy"}""");
        for (var i = 0; i < 20; i++)
            await b.PublishAsync("$dict/d", pull);

        // The first pull starts a state; the second makes one more due after it; the other 18 ride on that one.
        await AwaitConditionAsync(() => atA.Stats.PullsCoalesced == 18, TestTimeouts.Default, message: "18 pulls coalesced");
        Assert.Equal(1, Log.Count(8011, containing: b.Id));
        await release();
        await AwaitConditionAsync(() => atA.Stats.StatesSent == 2, TestTimeouts.Default, message: "two states sent");

        // A delta written now reaches b after every state a queued for it: exactly two.
        await atA.SetAsync("after", "w");
        var fromA = await spy.ReceiveWhileAsync<TopicMessage>(message => !IsDeltaOf(message, "after"), TestTimeouts.Default);
        spy.ExpectMsg<TopicMessage>(message => IsDeltaOf(message, "after"));
        Assert.Equal(2, fromA.Count(message => Kind(message) == "state" && Final(message)));
        Assert.Equal(2, atA.Stats.StatesSent);
        Assert.Equal(18, atA.Stats.PullsCoalesced);
        Assert.Equal(1, Log.Count(8011));
    }

    [Fact]
    public async Task A_pull_from_a_node_that_left_before_it_was_a_replica_here_must_not_be_answered_when_it_comes_back()
    {
        var (a, b) = await StartConnected("a", "b");
        var atA = await Open<string>(a, "d");
        await b.WaitForSubscriberAsync("$dict/d", TestTimeouts.Default);

        // b pulls, but is no replica in a's routes (it never announced the topic): a keeps the pull until it is. The delta
        // behind it on the same channel tells when a has it.
        await b.PublishAsync("$dict/d", JsonElement.Parse("""{"v":1,"kind":"pull","replica":"gone"}"""));
        await b.PublishAsync("$dict/d", JsonElement.Parse("""
            {"v":1,"kind":"delta","replica":"gone","entries":[{"key":"marker","versions":[{"replica":"gone","node":"n","vv":{"gone":1},"stamp":1,"value":"m"}]}]}
            """));
        await WaitFor(atA, "marker", "m");

        // b leaves (its last channel to a drops), comes back, and only then holds the topic: it never asked this time.
        var left = CreateTestProbe();
        a.System.EventStream.Subscribe<PeerDisconnected>(left.Ref);
        b.Peers.Tell(new PeerManagerActor.ResetChannels(a.Id));
        left.ExpectMsg<PeerDisconnected>(disconnected => disconnected.NodeId == b.Id);
        await WaitConnected(a, b);
        var spy = CreateTestProbe();
        await b.Subscribe("$dict/d", spy.Ref).Ready;

        Assert.Equal("pull", Kind(spy.ExpectMsg<TopicMessage>())); // a pulls the replica that appeared...
        await atA.SetAsync("after", "w");
        Assert.True(IsDeltaOf(spy.ExpectMsg<TopicMessage>(), "after"), "...and sends it no state: the pull of the node that left is forgotten");
        Assert.Equal(0, atA.Stats.StatesSent);
    }

    /// <summary>
    /// b pulls (replica "x1") and a's answer goes out; meanwhile c leaves, which makes a state due to b unasked after that
    /// answer; then b leaves the routes before the answer is queued. The state due unasked has nobody to go to, and the
    /// pull was answered: nothing is owed to b. When b appears again (it never asked this time), a must pull it and send
    /// it no state, as for a pull of a node that left (StateTransferSpec).
    /// </summary>
    [Fact]
    public async Task A_state_due_unasked_to_a_node_that_left_the_routes_must_not_become_a_pull_answered_when_it_comes_back()
    {
        var a = await Start("a", peers: new PeerOptions { BackpressureBytes = 64 * 1024 });
        var b = await Start("b", messaging: new MessagingOptions { SubscriberBacklogLimit = 2 });
        var c = await Start("c");
        var e = await Start("e");
        await WaitConnected(a, b, c, e);
        var atA = await Open<string>(a, "d");
        await atA.SetAsync("k", "v");

        var spyB = CreateTestProbe();
        var asB = b.Subscribe("$dict/d", spyB.Ref);
        await asB.Ready;
        var spyC = CreateTestProbe();
        var asC = c.Subscribe("$dict/d", spyC.Ref);
        await asC.Ready;
        var spyE = CreateTestProbe();
        await e.Subscribe("$dict/d", spyE.Ref).Ready;
        await WaitForReplicas(a, "d", 3);
        Assert.Equal("pull", Kind(spyB.ExpectMsg<TopicMessage>(message => message.SenderId == a.Id))); // a pulls each replica that appears

        // Hold b's channel from a (a callback subscriber that does not return stops it reading) and fill a's queue to b:
        // a state to b now waits for room, under way until the queue is released.
        var release = await StallQueue(a, b);

        // b's replica x1 pulls: a's answer to it is encoded and waits for room.
        await b.PublishAsync("$dict/d", JsonElement.Parse("""{"v":1,"kind":"pull","replica":"x1"}"""));
        await AwaitConditionAsync(() => Log.Count(8008, containing: b.Id) == 1, TestTimeouts.Default, message: "a answering x1's pull");

        // c leaves: a sends e its state unasked, and makes one due to b after the answer under way.
        asC.Dispose();
        await AwaitConditionAsync(() => Log.Count(8008, containing: e.Id) == 1, TestTimeouts.Default, message: "a to send e its state at c's departure");

        // b leaves the routes (its replica closed; its node stays connected), before the answer to x1 is queued. a sees
        // it leave (it sends e its state again), then the answer goes out.
        asB.Dispose();
        await AwaitConditionAsync(() => Log.Count(8008, containing: e.Id) == 2, TestTimeouts.Default, message: "a to send e its state at b's departure");
        await release();
        await AwaitConditionAsync(() => atA.Stats.StatesSent == 3, TestTimeouts.Default, message: "the answer to x1 and e's two states sent");

        // Everything a queued for b before now has reached b (a marker behind it on the same channel).
        var marker = CreateTestProbe();
        await b.Subscribe("marker", marker.Ref).Ready;
        await a.WaitForSubscriberAsync("marker", TestTimeouts.Default);
        await a.PublishAsync("marker", 1);
        marker.ExpectMsg<TopicMessage>();

        // b appears again (a new replica there, which has not pulled yet).
        var spy = CreateTestProbe();
        await b.Subscribe("$dict/d", spy.Ref).Ready;
        Assert.Equal("pull", Kind(spy.ExpectMsg<TopicMessage>(message => message.SenderId == a.Id))); // a pulls the replica that appeared...
        await atA.SetAsync("after", "w");
        var next = spy.ExpectMsg<TopicMessage>(message => message.SenderId == a.Id);
        Assert.True(
            IsDeltaOf(next, "after"),
            $"...and sends it no state: x1's pull was answered, and the state due unasked at c's departure had nobody to go to once b left; a sent {Describe(next)} first");
        Assert.Equal(3, atA.Stats.StatesSent);
    }

    /// <summary>
    /// docs/replication.md, Limits: "pulls that arrive from it while one goes out are answered together by one more ...
    /// the pulls beyond the one more are counted (Stats.PullsCoalesced) and logged once per burst (event 8011)"; and
    /// OnLeft: a node whose last channel went has what it asked forgotten, and "pulls again when it is back". b pulls
    /// twice while a's state to it waits for room (one more is due: nothing coalesced), loses its channel (the one more
    /// is forgotten), comes back and pulls once: that pull makes one more due again, and rides on no other pull.
    /// </summary>
    [Fact]
    public async Task The_first_pull_of_a_node_that_came_back_while_a_state_goes_to_it_must_not_be_counted_as_coalesced()
    {
        var a = await Start("a", peers: new PeerOptions { BackpressureBytes = 64 * 1024 });
        var b = await Start("b", messaging: new MessagingOptions { SubscriberBacklogLimit = 2 });
        await WaitConnected(a, b);
        var atA = await Open<string>(a, "d");
        await atA.SetAsync("k", "v");
        var spy = CreateTestProbe();
        await b.Subscribe("$dict/d", spy.Ref).Ready;
        Assert.Equal("pull", Kind(spy.ExpectMsg<TopicMessage>()));

        var release = await StallQueue(a, b);

        // Two pulls: the first starts a state (waiting for room), the second makes one more due. A delta behind them on
        // the same channel tells when a has taken both.
        await b.PublishAsync("$dict/d", JsonElement.Parse("""{"v":1,"kind":"pull","replica":"x1"}"""));
        await b.PublishAsync("$dict/d", JsonElement.Parse("""{"v":1,"kind":"pull","replica":"x1"}"""));
        await b.PublishAsync("$dict/d", Marker("m1"));
        await WaitFor(atA, "m1", "m");
        Assert.Equal(0, atA.Stats.PullsCoalesced);

        // b's last channel to a drops (a forgets what b asked), and comes back; a's queue to b, the state in it, waits on.
        var left = CreateTestProbe();
        a.System.EventStream.Subscribe<PeerDisconnected>(left.Ref);
        a.Peers.Tell(new PeerManagerActor.ResetChannels(b.Id));
        left.ExpectMsg<PeerDisconnected>(disconnected => disconnected.NodeId == b.Id);
        await WaitConnected(a, b);
        await WaitForReplicas(a, "d", 1);
        Assert.Equal(0, atA.Stats.StatesSent); // the state is still under way

        // b, back, pulls once: straight to a's node, as a's announcement of d waits in b's held channel from a.
        var toA = b.MessagingLayer.ConnectedPeer(a.Id)!;
        await toA.SendAsync(new Envelope.Pub("$dict/d", """{"v":1,"kind":"pull","replica":"x1"}"""u8.ToArray()));
        await toA.SendAsync(new Envelope.Pub("$dict/d", JsonSerializer.SerializeToUtf8Bytes(Marker("m2"))));
        await WaitFor(atA, "m2", "m");

        var coalesced = atA.Stats.PullsCoalesced;
        var logged = Log.Count(8011);
        await release();
        Assert.True(
            coalesced == 0 && logged == 0,
            $"b's only pull since it came back rode on no other pull, yet PullsCoalesced is {coalesced} and event 8011 was logged {logged} time(s)");
    }

    private static JsonElement Marker(string key) => JsonElement.Parse(
        $$"""{"v":1,"kind":"delta","replica":"b-spy","entries":[{"key":"{{key}}","versions":[{"replica":"b-spy","node":"n","vv":{"b-spy":1},"stamp":1,"value":"m"}]}]}""");

    private static string Describe(TopicMessage message) =>
        Read(message) is var root && root.TryGetProperty("for", out var asker) ? $"a {Kind(message)} for '{asker.GetString()}'" : $"a {Kind(message)}";

    private static string Kind(TopicMessage message) => Read(message).GetProperty("kind").GetString()!;

    private static bool Final(TopicMessage message) => Read(message).TryGetProperty("final", out var final) && final.GetBoolean();

    private static bool IsDeltaOf(TopicMessage message, string key) =>
        Kind(message) == "delta" && Read(message).GetProperty("entries")[0].GetProperty("key").GetString() == key;

    private static JsonElement Read(TopicMessage message) => JsonDocument.Parse(message.Data).RootElement;

    [Fact]
    public async Task An_entry_above_StateChunkBytes_but_within_every_frame_must_reach_a_replica_that_opens_later()
    {
        var (a, b) = await StartConnected("a", "b");
        var atA = await Open<string>(a, "d");
        var big = new string('x', 300 * 1024); // a 300 KiB value: its delta fits every 16 MiB frame, and the write succeeds
        await atA.SetAsync("big", big);
        await atA.SetAsync("small", "s");
        await WaitForReplicas(b, "d", 1);

        // b's max_frame is a's (16 MiB): "only a replica whose max_frame is below the writer's" may miss an entry.
        var atB = await Open(b, "d", new ReplicatedDictionaryOptions<string> { OpenTimeout = TimeSpan.FromSeconds(3) });

        Assert.Equal("s", atB["small"]);
        Assert.True(atB.TryGetValue("big", out var seen) && seen == big, "the 300 KiB entry was left out of a's state: b never gets it");
        Assert.Equal(0, atA.Stats.SendFailures);
    }

    [Fact]
    public async Task A_peers_value_holding_an_escaped_lone_surrogate_must_not_stop_the_replica_from_sending_its_state()
    {
        var (a, b) = await StartConnected("a", "b");
        var atA = await Open<JsonElement>(a, "d");
        await atA.SetAsync("good", JsonElement.Parse("1"));
        await b.WaitForSubscriberAsync("$dict/d", TestTimeouts.Default);

        // What a Node.js peer sends for "😀".slice(0, 1), a string cut in the middle of a surrogate pair: JSON.stringify
        // escapes the lone half. Valid JSON (docs/protocol.md 14.2: `value` is any JSON); a JsonElement replica takes it.
        await b.PublishAsync("$dict/d", new RawJson("""
            {"v":1,"kind":"delta","replica":"js","entries":[{"key":"cut","versions":[{"replica":"js","node":"n","vv":{"js":1},"stamp":1,"value":"\ud83d"}]}]}
            """));
        await AwaitConditionAsync(() => atA.ContainsKey("cut") || atA.Stats.BadVersions + atA.Stats.BadValues > 0, TestTimeouts.Default, message: "the delta handled");

        var atB = await Open(b, "d", new ReplicatedDictionaryOptions<JsonElement> { OpenTimeout = TimeSpan.FromSeconds(2) });

        await AwaitConditionAsync(() => atB.ContainsKey("good"), TimeSpan.FromSeconds(5), message: "a's state, with key good, at b");
        Assert.Equal(0, Log.Count(8002));
    }

    [Fact]
    public async Task A_write_nested_deeper_than_a_replica_reads_must_fail_at_once_and_one_at_the_limit_must_reach_a_later_replica()
    {
        var (a, b) = await StartConnected("a", "b");
        var atA = await Open<JsonElement>(a, "d");
        var deepest = JsonElement.Parse(new string('[', ReplicationWire.MaxValueDepth) + new string(']', ReplicationWire.MaxValueDepth));
        var tooDeep = JsonElement.Parse(new string('[', ReplicationWire.MaxValueDepth + 1) + new string(']', ReplicationWire.MaxValueDepth + 1));

        // Within the serializer's 64 levels, beyond the 58 a value has inside a state message in a 64-level frame.
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => atA.SetAsync("deep", tooDeep));
        Assert.Contains("58 levels", refused.Message);
        await atA.SetAsync("deepest", deepest);
        await atA.SetAsync("other", JsonElement.Parse("1"));
        await WaitForReplicas(b, "d", 1);
        var atB = await Open(b, "d", new ReplicatedDictionaryOptions<JsonElement> { OpenTimeout = TimeSpan.FromSeconds(3) });

        Assert.True(atB.ContainsKey("other") && atB.ContainsKey("deepest"), "a's state did not reach b whole");
        Assert.False(atB.ContainsKey("deep"));
    }

    /// <summary>JSON sent on byte for byte, as a peer in another language may write it.</summary>
    [JsonConverter(typeof(RawJsonConverter))]
    private sealed record RawJson(string Text);

    private sealed class RawJsonConverter : JsonConverter<RawJson>
    {
        public override RawJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => throw new NotSupportedException();

        public override void Write(Utf8JsonWriter writer, RawJson value, JsonSerializerOptions options) => writer.WriteRawValue(value.Text.Trim(), skipInputValidation: true);
    }
}
