using System.Text.Json;
using System.Text.Json.Serialization;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Replication;
using Xunit.Abstractions;
using MeshActors.Tests.Mesh;

namespace MeshActors.Tests.Replication;

using MeshActors.TestKit;

/// <summary>How a replica answers pulls: one state transfer at a time per asking node, no pull kept for a node that left, and every entry a later replica can read in it.</summary>
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
        // a state to b now waits for room, under way until the gate opens.
        var gate = new TaskCompletionSource();
        await b.Subscribe<string>("gate", async (_, _) => await gate.Task).Ready;
        await a.WaitForSubscriberAsync("gate", TestTimeouts.Default);
        var filler = new string('x', 512 * 1024);
        var filling = Enumerable.Range(0, 64).Select(_ => a.PublishAsync("gate", filler).AsTask()).ToList();
        await WaitStalled(a, b, 64 * 1024);

        var pull = JsonElement.Parse("""{"v":1,"kind":"pull","replica":"greedy"}""");
        for (var i = 0; i < 20; i++)
            await b.PublishAsync("$dict/d", pull);

        // The first pull starts a state; the second makes one more due after it; the other 18 ride on that one.
        await AwaitConditionAsync(() => atA.Stats.PullsCoalesced == 18, TestTimeouts.Default, message: "18 pulls coalesced");
        Assert.Equal(1, Log.Count(8011, containing: b.Id));
        gate.SetResult();
        await Task.WhenAll(filling);
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
