using System.Collections.Concurrent;
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

/// <summary>Replicated dictionaries between real nodes over the local-directory registry: replication, late opens, conflicts, groups, repair, bad input, actors.</summary>
public sealed class ReplicatedDictionarySpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    private readonly ConcurrentDictionary<object, string> _nodeOf = new();
    [Fact]
    public async Task A_set_on_one_node_must_be_seen_on_two_others()
    {
        var (atA, atB, atC) = await Dictionaries3<int>("d");
        var changes = new ConcurrentQueue<DictionaryChange<int>>();
        using var watching = atC.OnChanged(changes.Enqueue);

        await atA.SetAsync("x", 42);

        Assert.Equal(42, atA["x"]); // read your write at once
        await WaitFor(atB, "x", 42);
        await WaitFor(atC, "x", 42);
        await AwaitConditionAsync(() => !changes.IsEmpty);
        var change = Assert.Single(changes);
        Assert.Equal(new DictionaryChange<int>("x", DictionaryChangeKind.Set, 42, NodeOf(atA), IsLocal: false), change);
    }

    [Fact]
    public async Task The_writer_must_show_the_value_as_every_other_replica_reads_it_not_the_object_it_was_given()
    {
        var (atA, atB, _) = await Dictionaries3<Note>("d");
        var note = new Note { Text = "hello", Draft = "kept out of the JSON" };

        await atA.SetAsync("n", note);
        note.Text = "changed after the write";

        await AwaitConditionAsync(() => atB.ContainsKey("n"));
        Assert.Equal(new Note { Text = "hello" }, atB["n"]);
        Assert.Equal(atB["n"], atA["n"]);
    }

    [Fact]
    public async Task A_value_whose_JSON_does_not_read_back_must_be_refused_at_once()
    {
        var (atA, _, _) = await Dictionaries3<Checked>("d");

        var error = await Assert.ThrowsAsync<ArgumentException>(() => atA.SetAsync("c", Checked.Unchecked(-1)));

        Assert.Contains("does not read back", error.Message);
        Assert.False(atA.ContainsKey("c"));
    }

    [Fact]
    public async Task A_remove_must_replicate_to_every_replica()
    {
        var (atA, atB, atC) = await Dictionaries3<string>("d");
        await atA.SetAsync("x", "one");
        await WaitFor(atC, "x", "one");
        var removed = new TaskCompletionSource<DictionaryChange<string>>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var watching = atB.OnChanged(change =>
        {
            if (change.Kind == DictionaryChangeKind.Removed)
                removed.TrySetResult(change);
        });

        Assert.True(await atC.RemoveAsync("x"));

        Assert.False(atC.ContainsKey("x"));
        await WaitForAbsent(atA, "x");
        await WaitForAbsent(atB, "x");
        Assert.Equal(NodeOf(atC), (await removed.Task.WithTimeout()).NodeId);
        Assert.False(await atA.RemoveAsync("x")); // already gone: nothing to write
    }

    [Fact]
    public async Task A_replica_that_opens_late_must_get_the_whole_state_removes_included_before_its_open_returns()
    {
        var (a, b, c) = await StartConnected("a", "b", "c");
        var atA = await Open<int>(a, "d");
        var atB = await Open<int>(b, "d");
        for (var i = 0; i < 50; i++)
            await (i % 2 == 0 ? atA : atB).SetAsync("k" + i, i);
        await AwaitConditionAsync(() => atA.Count == 50 && atB.Count == 50, TestTimeouts.Default, message: "50 keys on a and b");
        Assert.True(await atB.RemoveAsync("k0")); // each removes a key the other wrote
        Assert.True(await atA.RemoveAsync("k1"));
        await AwaitConditionAsync(() => atA.Count == 48 && atB.Count == 48, TestTimeouts.Default, message: "48 keys on a and b");
        await WaitForReplicas(c, "d", 2);

        var atC = await Open<int>(c, "d");

        Assert.Equal(atA.Snapshot.OrderBy(kv => kv.Key), atC.Snapshot.OrderBy(kv => kv.Key));
        Assert.False(atC.ContainsKey("k0"));
        Assert.False(atC.ContainsKey("k1"));
        Assert.Equal(2, atC.Stats.StatesReceived);
    }

    [Fact]
    public async Task Concurrent_writes_to_one_key_must_converge_on_every_node_and_be_reported_as_a_conflict_everywhere()
    {
        var (atA, atB, atC, conflicts) = await Partitioned(new ReplicatedDictionaryOptions<string>());

        await AwaitConditionAsync(() => new[] { atA, atB, atC }.All(d => d.TryGetValue("k", out var v) && v == Winner(conflicts)), TestTimeouts.Default, message: "one value everywhere");
        foreach (var (node, conflict) in conflicts)
        {
            Assert.Equal("k", conflict.Key);
            Assert.Equal(["from-a", "from-b"], conflict.Writes.Select(write => write.Value).Order());
            Assert.Equal([NodeOf(atA), NodeOf(atB)], conflict.Writes.OrderBy(write => write.Value).Select(write => write.NodeId));
            Assert.Equal(conflict.Writes[^1], conflict.Winner);
            Assert.Equal(conflict.Winner.Value, conflict.Value);
            Assert.False(conflict.Resolved);
        }

        Assert.Equal(3, conflicts.Select(c => c.Node).Distinct().Count());
        Assert.Single(conflicts.Select(c => c.Conflict.Winner).Distinct());
        Assert.All(new[] { atA, atB, atC }, d => Assert.Equal(1, d.Stats.Conflicts));

        static string Winner(ConcurrentQueue<(string Node, DictionaryConflict<string> Conflict)> conflicts) =>
            conflicts.TryPeek(out var first) ? first.Conflict.Winner.Value! : "(no conflict yet)";
    }

    [Fact]
    public async Task Concurrent_writes_must_stand_in_Conflicts_on_every_replica_and_one_that_opens_later_until_the_next_write_replaces_them()
    {
        var (atA, atB, atC, _) = await Partitioned(new ReplicatedDictionaryOptions<string>());
        var late = await Start("late");
        await WaitForReplicas(late, "d", 2); // a and c: b is in a mesh of its own
        var atLate = await OpenOn<string>(late, "d");

        foreach (var dictionary in new[] { atA, atB, atC, atLate })
        {
            var conflict = Assert.Single(dictionary.Conflicts).Value;
            Assert.Equal(["from-a", "from-b"], conflict.Writes.Select(write => write.Value).Order());
            Assert.Equal(dictionary["k"], conflict.Value);
        }

        await atC.SetAsync("k", "settled");

        foreach (var dictionary in new[] { atA, atB, atC, atLate })
            await AwaitConditionAsync(() => dictionary.Conflicts.IsEmpty, TestTimeouts.Default, message: $"no conflict left in {dictionary}");
        Assert.Equal("settled", atLate["k"]);
    }

    [Fact]
    public async Task A_resolvers_value_must_be_kept_on_every_node()
    {
        var options = new ReplicatedDictionaryOptions<string>
        {
            Resolver = conflict => string.Join("|", conflict.Writes.Where(write => !write.Removed).Select(write => write.Value).Order(StringComparer.Ordinal)),
        };

        var (atA, atB, atC, conflicts) = await Partitioned(options);

        foreach (var dictionary in new[] { atA, atB, atC })
            await WaitFor(dictionary, "k", "from-a|from-b");
        await AwaitConditionAsync(() => conflicts.Select(c => c.Node).Distinct().Count() == 3, TestTimeouts.Default, message: "a conflict on each node");
        Assert.All(conflicts, c => Assert.True(c.Conflict.Resolved));

        // The next write replaces both concurrent values everywhere.
        await atC.SetAsync("k", "settled");
        await WaitFor(atA, "k", "settled");
        await WaitFor(atB, "k", "settled");
    }

    [Fact]
    public async Task A_resolver_that_throws_must_be_logged_and_counted_and_the_winner_kept()
    {
        var options = new ReplicatedDictionaryOptions<string> { Resolver = _ => throw new InvalidOperationException("a resolver's bug") };

        var (atA, atB, atC, conflicts) = await Partitioned(options);

        var winner = conflicts.First().Conflict.Winner.Value!;
        foreach (var dictionary in new[] { atA, atB, atC })
            await WaitFor(dictionary, "k", winner);
        Assert.All(conflicts, c => Assert.False(c.Conflict.Resolved));
        Assert.All(new[] { atA, atB, atC }, d => Assert.Equal(1, d.Stats.ResolverFailures));
        Assert.Equal(3, Log.Count(8006));
    }

    [Fact]
    public async Task Three_nodes_writing_and_removing_the_same_keys_at_once_must_end_with_the_same_dictionary()
    {
        var (a, b, c) = await StartConnected("a", "b", "c");
        var replicas = new[] { await OpenOn<int>(a, "d"), await OpenOn<int>(b, "d"), await OpenOn<int>(c, "d") };
        foreach (var node in new[] { a, b, c })
            await WaitForReplicas(node, "d", 2);

        // 300 writes and removes per node on 10 keys, all at once; midway, b's channel to a drops and comes back.
        await Task.WhenAll(replicas.Select((replica, n) => Task.Run(async () =>
        {
            var random = new Random(n);
            for (var i = 0; i < 300; i++)
            {
                if (n == 1 && i == 150)
                    b.Peers.Tell(new PeerManagerActor.ResetChannels(a.Id));
                var key = "k" + random.Next(10);
                if (random.Next(4) == 0)
                    await replica.RemoveAsync(key);
                else
                    await replica.SetAsync(key, n * 1000 + i);
            }
        })));

        await AwaitConditionAsync(
            () => replicas.All(replica => replica.Snapshot.OrderBy(kv => kv.Key).SequenceEqual(replicas[0].Snapshot.OrderBy(kv => kv.Key))) && Connected(a, b),
            TestTimeouts.Default,
            message: "the same dictionary on every node");
        Output!.WriteLine($"{replicas[0].Count} keys; conflicts seen: {string.Join(", ", replicas.Select(replica => replica.Stats.Conflicts))}");
    }

    [Fact]
    public async Task Nodes_with_the_same_name_must_each_hold_every_entry()
    {
        var (writer, worker1, worker2) = await StartConnected("writer", "workers", "workers");
        var atWriter = await Open<int>(writer, "jobs");
        var atWorker1 = await Open<int>(worker1, "jobs");
        var atWorker2 = await Open<int>(worker2, "jobs");
        await WaitForReplicas(writer, "jobs", 2);

        for (var i = 0; i < 20; i++)
            await atWriter.SetAsync("job" + i, i);

        await AwaitConditionAsync(() => atWorker1.Count == 20 && atWorker2.Count == 20, TestTimeouts.Default, message: "20 entries on both workers");
        Assert.Equal(atWriter.Snapshot.OrderBy(kv => kv.Key), atWorker1.Snapshot.OrderBy(kv => kv.Key));
        Assert.Equal(atWriter.Snapshot.OrderBy(kv => kv.Key), atWorker2.Snapshot.OrderBy(kv => kv.Key));
    }

    [Fact]
    public async Task An_update_lost_on_a_channel_that_dropped_must_be_repaired_when_the_channel_comes_back()
    {
        var a = await Start("a");
        var b = await Start("b", messaging: new MessagingOptions { SubscriberBacklogLimit = 2 });
        await WaitConnected(a, b);
        var atA = await Open<string>(a, "d");
        var atB = await Open<string>(b, "d");
        await WaitForReplicas(a, "d", 1);
        await atA.SetAsync("before", "1");
        await WaitFor(atB, "before", "1");

        // Hold b's channel from a: a callback subscriber that does not return makes it stop reading (docs/messaging.md).
        var gate = await HoldChannel(a, b);
        var statesBefore = atB.Stats.StatesReceived;

        // Written into the channel (a's queue is empty), never read by b: the reset loses it.
        await atA.SetAsync("lost", "2");
        await AwaitConditionAsync(() => a.DescribePeers().Single(peer => peer.NodeId == b.Id).QueuedBytes == 0, TestTimeouts.Default, message: "a's queue to b written");
        Assert.False(atB.ContainsKey("lost"));
        b.Peers.Tell(new PeerManagerActor.ResetChannels(a.Id));
        await AwaitConditionAsync(() => !Connected(b, a), TestTimeouts.Default, message: "b's channel to a reset");
        gate.SetResult();

        await WaitFor(atB, "lost", "2");
        Assert.True(atB.Stats.StatesReceived > statesBefore, "the repair came with a's whole state");
    }

    [Fact]
    public async Task A_malformed_message_must_be_logged_and_counted_while_the_replica_goes_on()
    {
        var (a, b) = await StartConnected("a", "b");
        var atB = await Open<int>(b, "d");
        await a.WaitForSubscriberAsync("$dict/d", TestTimeouts.Default);
        var handled = new ConcurrentQueue<string>();
        using var throwing = atB.OnChanged(_ => throw new InvalidOperationException("a handler's bug"));
        using var counting = atB.OnChanged(change => handled.Enqueue(change.Key));

        await a.PublishAsync("$dict/d", Json("""[1, 2]"""));
        await a.PublishAsync("$dict/d", Json("""{"v":1,"kind":"delta","replica":"r"}"""));
        await a.PublishAsync("$dict/d", Json("""{"v":9,"kind":"delta","replica":"r","entries":[]}"""));
        await a.PublishAsync("$dict/d", Json("""
            {"v":1,"kind":"delta","replica":"r","entries":[
              {"key":"bad","versions":[{"replica":"r","node":"n","vv":{"r":1},"stamp":1,"value":"not a number"}]},
              {"key":"good","versions":[{"replica":"r","node":"n","vv":{"r":1},"stamp":1,"value":7}]}]}
            """));

        await WaitFor(atB, "good", 7);
        Assert.False(atB.ContainsKey("bad"));
        Assert.Equal(3, atB.Stats.BadMessages);
        Assert.Equal(1, atB.Stats.BadValues);
        Assert.Equal(3, Log.Count(8003));
        Assert.Equal(1, Log.Count(8004, containing: "bad"));
        Assert.Equal(["good"], handled);
        Assert.Equal(1, atB.Stats.HandlerFailures);
        Assert.Equal(1, Log.Count(8005));
        Assert.Equal(3, Measured(b, "meshactors.replication.bad_messages", "d"));
        Assert.Equal(1, Measured(b, "meshactors.replication.bad_values", "d"));

        // And it still replicates.
        var atA = await Open<int>(a, "d");
        await atA.SetAsync("after", 1);
        await WaitFor(atB, "after", 1);
        Assert.Equal(7, atA["good"]);
    }

    [Fact]
    public async Task Actors_must_write_read_and_watch_a_replica_with_messages()
    {
        var (atA, atB, _) = await Dictionaries3<int>("d");
        var writer = CreateTestProbe();
        var watcher = CreateTestProbe();
        atB.Actor.Tell(new WatchDictionary(watcher.Ref), watcher.Ref);
        watcher.ExpectMsg<DictionaryWatched>();

        atA.Actor.Tell(new DictionarySet<int>("x", 42), writer.Ref);

        writer.ExpectMsg<DictionaryWritten>(written => written.Key == "x" && written.Changed);
        var change = watcher.ExpectMsg<DictionaryChange<int>>();
        Assert.Equal(new DictionaryChange<int>("x", DictionaryChangeKind.Set, 42, NodeOf(atA), IsLocal: false), change);
        atB.Actor.Tell(new DictionaryGet("x"), writer.Ref);
        writer.ExpectMsg(new DictionaryValue<int>("x", true, 42));

        atB.Actor.Tell(new DictionaryRemove("x"), writer.Ref);
        writer.ExpectMsg(new DictionaryWritten("x", true));
        Assert.Equal(DictionaryChangeKind.Removed, watcher.ExpectMsg<DictionaryChange<int>>().Kind);
        atB.Actor.Tell(new DictionaryGet("x"), writer.Ref);
        writer.ExpectMsg(new DictionaryValue<int>("x", false, 0));
        await WaitForAbsent(atA, "x");
    }

    [Fact]
    public async Task A_dictionary_must_open_once_per_node_and_a_reopened_replica_must_get_its_state_back()
    {
        var (a, b) = await StartConnected("a", "b");
        var atA = await Open<int>(a, "d");
        var atB = await Open<int>(b, "d");
        await atB.SetAsync("x", 1);
        await WaitFor(atA, "x", 1);

        await Assert.ThrowsAsync<InvalidOperationException>(() => a.OpenDictionaryAsync<int>("d"));
        await atA.DisposeAsync();
        await WaitForReplicas(b, "d", 0);
        await atB.SetAsync("y", 2);
        var again = await Open<int>(a, "d");

        Assert.Equal(1, again["x"]);
        Assert.Equal(2, again["y"]);
        await again.SetAsync("x", 3); // a fresh replica id: its first write overwrites, it does not collide with its old one
        await WaitFor(atB, "x", 3);
    }

    [Fact]
    public async Task Opening_must_stop_waiting_at_its_timeout_for_a_node_that_never_sends_its_state()
    {
        var (a, b) = await StartConnected("a", "b");
        var impostor = CreateTestProbe();
        await b.Subscribe("$dict/d", impostor.Ref).Ready; // listens on the topic, but is no replica: never answers a pull
        await WaitForReplicas(a, "d", 1);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var atA = await Open(a, "d", new ReplicatedDictionaryOptions<int> { OpenTimeout = TimeSpan.FromMilliseconds(500) });

        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(450), TestTimeouts.Default);
        Assert.Contains("\"kind\":\"pull\"", System.Text.Encoding.UTF8.GetString(impostor.ExpectMsg<TopicMessage>().Data.Span));
        Assert.Equal(1, Log.Count(8002, containing: b.Id));
        await atA.SetAsync("x", 1); // and it serves
        Assert.Equal(1, atA["x"]);
    }

    [Fact]
    public async Task A_stamp_or_a_count_above_the_maximum_must_be_refused_alone_and_later_writes_and_states_still_replicate()
    {
        var (a, b, c) = await StartConnected("a", "b", "c");
        var atA = await Open<int>(a, "d");
        var atB = await Open<int>(b, "d");
        await WaitForReplicas(c, "d", 2);

        // 2^53 is one above the maximum (docs/protocol.md 14.2); long.MaxValue once pinned the Lamport clock, and the next local write wrapped.
        await c.PublishAsync("$dict/d", Json($$"""
            {"v":1,"kind":"delta","replica":"evil","entries":[
              {"key":"huge-stamp","versions":[{"replica":"evil","node":"n","vv":{"evil":1},"stamp":{{long.MaxValue}},"value":1}]},
              {"key":"huge-count","versions":[{"replica":"evil","node":"n","vv":{"evil":1,"other":9007199254740992},"stamp":2,"value":2}]},
              {"key":"good","versions":[{"replica":"evil","node":"n","vv":{"evil":1},"stamp":5,"value":3}]}]}
            """));

        await WaitFor(atA, "good", 3);
        await WaitFor(atB, "good", 3);
        Assert.False(atA.ContainsKey("huge-stamp") || atA.ContainsKey("huge-count"));
        Assert.All(new[] { atA, atB }, d => Assert.Equal((0, 2), (d.Stats.BadMessages, d.Stats.BadVersions)));
        Assert.Equal(2, Log.Count(8010, containing: "huge-stamp"));
        Assert.Equal(2, Log.Count(8010, containing: "huge-count"));

        await atB.SetAsync("x", 1);
        await WaitFor(atA, "x", 1);
        var d = await Start("d");
        await WaitConnected(a, b, c, d);
        await WaitForReplicas(d, "d", 2);
        var atD = await Open<int>(d, "d");
        Assert.Equal(atA.Snapshot.OrderBy(kv => kv.Key), atD.Snapshot.OrderBy(kv => kv.Key));
        Assert.Equal(2, atD.Stats.StatesReceived);
    }

    [Fact]
    public async Task A_count_for_the_local_replica_must_not_make_its_writes_vanish_and_a_write_past_the_maximum_must_fail_clearly()
    {
        var (a, b) = await StartConnected("a", "b");
        var spy = CreateTestProbe();
        await b.Subscribe("$dict/d", spy.Ref).Ready; // a listener that is no replica: it sees a's pull, and so a's replica id
        await WaitForReplicas(a, "d", 1);
        var atA = await Open(a, "d", new ReplicatedDictionaryOptions<int> { OpenTimeout = TimeSpan.FromMilliseconds(300) });
        var mine = JsonDocument.Parse(spy.ExpectMsg<TopicMessage>().Data).RootElement.GetProperty("replica").GetString();

        // long.MaxValue for a's own count wrapped at a's next write, whose vector then equalled the old one: dropped as known.
        await b.PublishAsync("$dict/d", Json($$"""
            {"v":1,"kind":"delta","replica":"evil","entries":[
              {"key":"wrapped","versions":[{"replica":"evil","node":"n","vv":{"evil":1,"{{mine}}":{{long.MaxValue}}},"stamp":3,"value":1}]},
              {"key":"full","versions":[{"replica":"evil","node":"n","vv":{"evil":1,"{{mine}}":9007199254740991},"stamp":3,"value":1}]}]}
            """));
        await WaitFor(atA, "full", 1);
        Assert.False(atA.ContainsKey("wrapped"));
        Assert.Equal(1, atA.Stats.BadVersions);

        await atA.SetAsync("wrapped", 2);
        Assert.Equal(2, atA["wrapped"]);
        var refused = await Assert.ThrowsAsync<OverflowException>(() => atA.SetAsync("full", 2));
        Assert.Contains("9007199254740991", refused.Message);
        Assert.Equal(1, atA["full"]);
    }

    [Fact]
    public async Task A_peers_stamp_at_the_maximum_must_not_stop_the_other_nodes_writes()
    {
        var (a, b, c) = await StartConnected("a", "b", "c");
        var atA = await Open<int>(a, "d");
        var atB = await Open<int>(b, "d");
        await WaitForReplicas(c, "d", 2);

        // A valid stamp (docs/protocol.md 14.2) that once left no room above it: every later write on a and b failed.
        await c.PublishAsync("$dict/d", Json("""
            {"v":1,"kind":"delta","replica":"evil","entries":[
              {"key":"pinned","versions":[{"replica":"evil","node":"n","vv":{"evil":1},"stamp":9007199254740991,"value":1}]}]}
            """));
        await WaitFor(atA, "pinned", 1);
        await WaitFor(atB, "pinned", 1);

        await atA.SetAsync("x", 2);
        await WaitFor(atB, "x", 2);
        await atB.SetAsync("pinned", 3); // it has seen the pinned version: it replaces it, whatever their stamps
        await WaitFor(atA, "pinned", 3);
        Assert.All(new[] { atA, atB }, d => Assert.Equal(0, d.Stats.BadVersions + d.Stats.Conflicts));
    }

    [Fact]
    public async Task A_remove_must_settle_concurrent_writes_among_which_a_remove_wins()
    {
        var (a, b) = await StartConnected("a", "b");
        var atA = await Open<int>(a, "d");
        await b.WaitForSubscriberAsync("$dict/d", TestTimeouts.Default);
        // Two replicas' writes that did not see each other: a set, and a remove with the higher stamp, which wins.
        await b.PublishAsync("$dict/d", Json("""
            {"v":1,"kind":"delta","replica":"r1","entries":[
              {"key":"k","versions":[{"replica":"r1","node":"n1","vv":{"r1":1},"stamp":5,"value":1}]}]}
            """));
        await b.PublishAsync("$dict/d", Json("""
            {"v":1,"kind":"delta","replica":"r2","entries":[
              {"key":"k","versions":[{"replica":"r2","node":"n2","vv":{"r2":1},"stamp":6,"removed":true}]}]}
            """));
        await AwaitConditionAsync(() => atA.Conflicts.ContainsKey("k"), TestTimeouts.Default, message: "the conflict on k");
        Assert.False(atA.ContainsKey("k"));

        Assert.True(await atA.RemoveAsync("k"));

        Assert.Empty(atA.Conflicts);
        Assert.False(atA.ContainsKey("k"));
    }

    [Fact]
    public async Task A_late_replica_whose_max_frame_is_smaller_than_a_state_chunk_must_get_the_whole_state_before_its_open_returns()
    {
        var a = await Start("a");
        var b = await Start("b", protocol: new ProtocolOptions { MaxFrameSize = ProtocolOptions.SmallestMaxFrameSize });
        await WaitConnected(a, b);
        var atA = await Open<string>(a, "d");
        var filler = new string('x', 1000);
        for (var i = 0; i < 200; i++)
            await atA.SetAsync("k" + i, filler); // about 230 KB of state: one 256 KiB chunk, above b's 64 KiB frames
        await WaitForReplicas(b, "d", 1);

        var atB = await Open(b, "d", new ReplicatedDictionaryOptions<string> { OpenTimeout = TimeSpan.FromSeconds(3) });

        Assert.Equal(200, atB.Count);
        Assert.Equal(1, atB.Stats.StatesReceived);
        Assert.Equal(0, atA.Stats.SendFailures);
        Assert.Equal(0, Log.Count(8002));
    }

    [Fact]
    public async Task A_write_whose_delta_is_above_a_replicas_max_frame_must_fail_naming_its_size_and_the_limit_and_write_nothing()
    {
        var a = await Start("a");
        var b = await Start("b", protocol: new ProtocolOptions { MaxFrameSize = ProtocolOptions.SmallestMaxFrameSize });
        await WaitConnected(a, b);
        var atA = await Open<string>(a, "d");
        var atB = await Open<string>(b, "d");
        await WaitForReplicas(a, "d", 1);

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => atA.SetAsync("big", new string('x', 100 * 1024)));

        Assert.Contains("65536-byte", refused.Message);
        Assert.Matches(@"\b10\d{4} bytes", refused.Message);
        Assert.False(atA.ContainsKey("big"));
        var writer = CreateTestProbe();
        atA.Actor.Tell(new DictionarySet<string>("big", new string('x', 100 * 1024)), writer.Ref);
        Assert.IsType<ArgumentException>(writer.ExpectMsg<MeshActors.Actors.Status.Failure>().Cause);
        await atA.SetAsync("small", "s");
        await WaitFor(atB, "small", "s");
        Assert.False(atB.ContainsKey("big"));
    }

    [Fact]
    public async Task An_entry_above_a_late_replicas_max_frame_must_be_skipped_logged_and_counted_and_the_rest_of_the_state_sent()
    {
        var a = await Start("a");
        var b = await Start("b", protocol: new ProtocolOptions { MaxFrameSize = ProtocolOptions.SmallestMaxFrameSize });
        await WaitConnected(a, b);
        var atA = await Open<string>(a, "d");
        await atA.SetAsync("big", new string('x', 100 * 1024)); // a is alone: within its own 16 MiB frames
        for (var i = 0; i < 10; i++)
            await atA.SetAsync("k" + i, "small");
        await WaitForReplicas(b, "d", 1);

        var atB = await Open(b, "d", new ReplicatedDictionaryOptions<string> { OpenTimeout = TimeSpan.FromSeconds(3) });

        Assert.Equal(10, atB.Count);
        Assert.False(atB.ContainsKey("big"));
        Assert.Equal(1, atB.Stats.StatesReceived);
        Assert.Equal(0, Log.Count(8002));
        await AwaitConditionAsync(() => atA.Stats.SendFailures == 1, TestTimeouts.Default, message: "the skipped entry counted");
        Assert.Equal(1, Log.Count(8009, containing: "big"));
    }

    [Fact]
    public async Task A_value_whose_reading_throws_any_exception_must_be_refused_alone_and_the_rest_of_the_state_applied()
    {
        var (a, b) = await StartConnected("a", "b");
        var atB = await Open<Checked>(b, "d");
        await a.WaitForSubscriberAsync("$dict/d", TestTimeouts.Default);

        // Checked's constructor throws ArgumentOutOfRangeException for -1: not a JsonException.
        await a.PublishAsync("$dict/d", Json("""
            {"v":1,"kind":"state","replica":"r","entries":[
              {"key":"good1","versions":[{"replica":"r","node":"n","vv":{"r":1},"stamp":1,"value":{"n":1}}]},
              {"key":"bad","versions":[{"replica":"r","node":"n","vv":{"r":1},"stamp":1,"value":{"n":-1}}]},
              {"key":"good2","versions":[{"replica":"r","node":"n","vv":{"r":1},"stamp":1,"value":{"n":2}}]}],"final":true}
            """));

        await AwaitConditionAsync(() => atB.Stats.StatesReceived == 1, TestTimeouts.Default, message: "the final chunk received");
        Assert.Equal(["good1", "good2"], atB.Keys.Order());
        Assert.Equal(1, atB.Stats.BadValues);
        Assert.Equal(1, Log.Count(8004, containing: "bad"));
    }

    [Fact]
    public async Task A_value_that_cannot_be_serialized_must_fail_the_write_at_once_with_its_own_exception()
    {
        var a = await Start("a");
        var atA = await Open<Unwritable>(a, "d");

        await Assert.ThrowsAsync<InvalidOperationException>(() => atA.SetAsync("x", new Unwritable()));
        await Assert.ThrowsAsync<InvalidOperationException>(() => atA.UpdateAsync("x", _ => new Unwritable()));
        var writer = CreateTestProbe();
        atA.Actor.Tell(new DictionarySet<Unwritable>("x", new Unwritable()), writer.Ref);
        Assert.Equal("cannot read N", writer.ExpectMsg<MeshActors.Actors.Status.Failure>().Cause.Message);
        Assert.False(atA.ContainsKey("x"));
    }

    [Fact]
    public async Task A_write_waiting_for_room_in_a_peers_queue_must_fail_when_the_dictionary_closes_rather_than_report_success()
    {
        var a = await Start("a", peers: new PeerOptions { BackpressureBytes = 64 * 1024 });
        var b = await Start("b", messaging: new MessagingOptions { SubscriberBacklogLimit = 2 });
        await WaitConnected(a, b);
        var atA = await Open<string>(a, "d");
        await Open<string>(b, "d");
        await WaitForReplicas(a, "d", 1);

        // Hold b's channel from a (a callback subscriber that does not return stops it reading), then fill a's queue to b.
        var release = await StallQueue(a, b);

        var write = atA.SetAsync("x", "never sent"); // applied here, then waits for room behind the filler
        await atA.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => write);
        Assert.Equal(0, atA.Stats.SendFailures); // closing is no send failure
        await release();
    }

    [Fact]
    public async Task A_dictionary_closed_while_a_handler_is_busy_must_keep_its_name_until_its_replica_has_stopped()
    {
        var a = await Start("a");
        var atA = await Open<int>(a, "d");
        using var release = new ManualResetEventSlim();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var blocking = atA.OnChanged(_ =>
        {
            entered.TrySetResult();
            release.Wait();
        });
        _ = atA.SetAsync("x", 1); // answered once its handler returns
        await entered.Task.WithTimeout();

        await atA.DisposeAsync(); // gives up waiting after 5 s

        await Assert.ThrowsAsync<InvalidOperationException>(() => a.OpenDictionaryAsync<int>("d"));
        release.Set();
        ReplicatedDictionary<int>? again = null;
        await Conditions.AwaitConditionAsync(
            async () =>
            {
                try
                {
                    again = await a.OpenDictionaryAsync<int>("d");
                    return true;
                }
                catch (InvalidOperationException)
                {
                    return false;
                }
            },
            TestTimeouts.Default,
            message: "the name free once the old replica stopped");
        await again!.DisposeAsync();
    }

    /// <summary>The id of the node a dictionary was opened on (by <see cref="OpenOn{T}"/>).</summary>
    private string NodeOf<T>(ReplicatedDictionary<T> dictionary) => _nodeOf[dictionary];

    private async Task<(ReplicatedDictionary<T>, ReplicatedDictionary<T>, ReplicatedDictionary<T>)> Dictionaries3<T>(string name)
    {
        var (a, b, c) = await StartConnected("a", "b", "c");
        var atA = await OpenOn<T>(a, name);
        var atB = await OpenOn<T>(b, name);
        var atC = await OpenOn<T>(c, name);
        foreach (var node in new[] { a, b, c })
            await WaitForReplicas(node, name, 2);
        return (atA, atB, atC);
    }

    private async Task<ReplicatedDictionary<T>> OpenOn<T>(MeshNode node, string name, ReplicatedDictionaryOptions<T>? options = null)
    {
        var dictionary = await Open(node, name, options);
        _nodeOf[dictionary] = node.Id;
        return dictionary;
    }

    /// <summary>
    /// a and c share a mesh; b is in a mesh of its own. a and b write key k while they cannot see each other (concurrent
    /// writes), then b dials a and c: the partition heals.
    /// </summary>
    private async Task<(ReplicatedDictionary<string> A, ReplicatedDictionary<string> B, ReplicatedDictionary<string> C, ConcurrentQueue<(string Node, DictionaryConflict<string> Conflict)> Conflicts)> Partitioned(
        ReplicatedDictionaryOptions<string> options)
    {
        var a = await Start("a");
        var c = await Start("c");
        var b = await Start("b", prefix: Prefix + "-apart");
        await WaitConnected(a, c);
        var atA = await OpenOn(a, "d", options);
        var atC = await OpenOn(c, "d", options);
        var atB = await OpenOn(b, "d", options);
        var conflicts = new ConcurrentQueue<(string, DictionaryConflict<string>)>();
        foreach (var (node, dictionary) in new[] { (a, atA), (b, atB), (c, atC) })
            dictionary.OnConflict(conflict => conflicts.Enqueue((node.Id, conflict)));
        await atA.SetAsync("k", "from-a");
        await WaitFor(atC, "k", "from-a");
        await atB.SetAsync("k", "from-b");
        Assert.False(Connected(b, a));

        b.Peers.Tell(new PeerManagerActor.ConnectPeer(a.Self.Host, a.Self.Port));
        b.Peers.Tell(new PeerManagerActor.ConnectPeer(c.Self.Host, c.Self.Port));
        await WaitConnected(a, b, c);
        await AwaitConditionAsync(() => conflicts.Select(conflict => conflict.Item1).Distinct().Count() == 3, TestTimeouts.Default, message: "a conflict reported on each node");
        return (atA, atB, atC, conflicts);
    }

    private static JsonElement Json(string text) => JsonElement.Parse(text);

    /// <summary>What the node's meter says now for one dictionary's instrument.</summary>
    private static long Measured(MeshNode node, string instrument, string dictionary)
    {
        long? measured = null;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (published, l) =>
        {
            if (published.Meter.Name == "MeshActors" && published.Name == instrument)
                l.EnableMeasurementEvents(published);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? id = null, name = null;
            foreach (var (key, tag) in tags)
            {
                if (key == "meshactors.node.id")
                    id = (string?)tag;
                else if (key == "meshactors.dictionary.name")
                    name = (string?)tag;
            }

            if (id == node.Id && name == dictionary)
                measured = value;
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return measured ?? throw new Xunit.Sdk.XunitException($"no {instrument} for dictionary {dictionary} on {node.Id}");
    }

    /// <summary>A value whose constructor refuses a negative number: reading one throws ArgumentOutOfRangeException, not a JsonException.</summary>
    public sealed record Checked
    {
        [JsonConstructor]
        public Checked(int n) => N = n >= 0 ? n : throw new ArgumentOutOfRangeException(nameof(n));

        private Checked()
        {
        }

        public int N { get; private init; }

        /// <summary>A negative one, made the way a bug elsewhere would: it writes fine, and no replica can read it.</summary>
        public static Checked Unchecked(int n) => new() { N = n };
    }

    /// <summary>A mutable value with a property the JSON leaves out.</summary>
    public sealed record Note
    {
        public string? Text { get; set; }

        [JsonIgnore]
        public string? Draft { get; set; }
    }

    /// <summary>A value that cannot be written as JSON: its getter throws.</summary>
    public sealed class Unwritable
    {
        public int N => throw new InvalidOperationException("cannot read N");
    }
}
