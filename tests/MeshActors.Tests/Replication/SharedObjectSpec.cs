using System.Collections.Concurrent;
using MeshActors.Replication;
using Xunit.Abstractions;
using MeshActors.Tests.Mesh;

namespace MeshActors.Tests.Replication;

using MeshActors.TestKit;

/// <summary>Shared objects and counters, built on replicated dictionaries, between real nodes.</summary>
public sealed class SharedObjectSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    [Fact]
    public async Task A_shared_object_must_reach_every_node_and_say_when_it_is_updated_and_removed()
    {
        var (a, b) = await StartConnected("a", "b");
        await using var atA = await a.OpenSharedObjectAsync<Room>("room");
        await using var atB = await b.OpenSharedObjectAsync<Room>("room");
        await WaitForReplicas(a, SharedObjects.ObjectPrefix + "room", 1);
        var updates = new ConcurrentQueue<Room>();
        var removed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onUpdate = atB.OnChanged(updates.Enqueue);
        using var onRemove = atB.OnRemoved(() => removed.TrySetResult());

        await atA.SetAsync(new Room("Foobar", ["ann"]));
        await atA.UpdateAsync(room => room! with { Members = [.. room.Members, "bob"] });

        await AwaitConditionAsync(() => atB.Value?.Members.Length == 2, TestTimeouts.Default, message: "both members on b");
        Assert.Equal("Foobar", atB.Value!.Name);
        Assert.Equal([["ann"], ["ann", "bob"]], updates.Select(room => room.Members));
        Assert.True(await atB.RemoveAsync());
        await removed.Task.WithTimeout();
        await AwaitConditionAsync(() => !atA.Exists, TestTimeouts.Default, message: "removed on a");
        Assert.Null(atA.Value);
    }

    [Fact]
    public async Task Updates_on_one_node_must_apply_one_after_another()
    {
        var (a, b) = await StartConnected("a", "b");
        await using var atA = await a.OpenSharedObjectAsync<int>("hits");
        await using var atB = await b.OpenSharedObjectAsync<int>("hits");
        await WaitForReplicas(a, SharedObjects.ObjectPrefix + "hits", 1);

        await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => atA.UpdateAsync(n => n + 1)));

        Assert.Equal(100, atA.Value);
        await AwaitConditionAsync(() => atB.Value == 100, TestTimeouts.Default, message: "100 on b");
        Assert.Equal(0, atB.Stats.Conflicts);
    }

    [Fact]
    public async Task Concurrent_increments_on_three_nodes_must_all_count_everywhere()
    {
        var (a, b, c) = await StartConnected("a", "b", "c");
        var counters = new List<SharedCounter>();
        foreach (var node in new[] { a, b, c })
            counters.Add(await node.OpenCounterAsync("visits"));
        foreach (var node in new[] { a, b, c })
            await WaitForReplicas(node, SharedObjects.CounterPrefix + "visits", 2);

        // Every node increments at once, 100 times each, and one node also takes 10 back.
        await Task.WhenAll(counters.Select(counter => Task.WhenAll(Enumerable.Range(0, 100).Select(_ => counter.IncrementAsync()))));
        await counters[1].DecrementAsync(10);

        await AwaitConditionAsync(() => counters.All(counter => counter.Value == 290), TestTimeouts.Default, message: "290 on every node");
        Assert.All(counters, counter => Assert.Equal(0, counter.Stats.Conflicts));

        // An opening's increments outlive it while other nodes hold the counter: a reopened counter sees them all.
        await counters[0].DisposeAsync();
        await WaitForReplicas(b, SharedObjects.CounterPrefix + "visits", 1);
        await using var again = await a.OpenCounterAsync("visits");
        Assert.Equal(290, again.Value);
        await again.IncrementAsync();
        await AwaitConditionAsync(() => counters[2].Value == 291, TestTimeouts.Default, message: "291 on c");
        await counters[1].DisposeAsync();
        await counters[2].DisposeAsync();
    }

    public sealed record Room(string Name, string[] Members);
}
