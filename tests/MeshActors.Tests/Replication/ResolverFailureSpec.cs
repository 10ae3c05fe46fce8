using System.Collections.Concurrent;
using System.Text.Json;
using MeshActors.Replication;
using Xunit.Abstractions;
using MeshActors.Tests.Mesh;

namespace MeshActors.Tests.Replication;

using MeshActors.TestKit;

/// <summary>Conflict handling between real nodes: what a resolver's result does to the replica that shows it.</summary>
public sealed class ResolverFailureSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    [Fact]
    public async Task A_resolver_whose_value_has_no_JSON_must_not_stop_the_next_write_from_being_answered_and_replicated()
    {
        // A resolver over doubles whose result JSON cannot hold (NaN: "no agreed value"). Its value is shown, not written,
        // so nothing in the docs forbids it; a resolver that fails is logged and counted and the replica goes on.
        var options = new ReplicatedDictionaryOptions<double> { Resolver = _ => double.NaN };
        var (a, b, c) = await StartConnected("a", "b", "c");
        var atA = await Open(a, "d", options);
        var atB = await Open<double>(b, "d");
        await WaitForReplicas(a, "d", 1);
        await WaitForReplicas(b, "d", 1);
        await WaitForReplicas(c, "d", 2);

        // Two replicas' writes to k that did not see each other: a conflict on a, resolved there.
        await c.PublishAsync("$dict/d", Json("""
            {"v":1,"kind":"delta","replica":"r1","entries":[
              {"key":"k","versions":[{"replica":"r1","node":"n1","vv":{"r1":1},"stamp":5,"value":1.5}]}]}
            """));
        await c.PublishAsync("$dict/d", Json("""
            {"v":1,"kind":"delta","replica":"r2","entries":[
              {"key":"k","versions":[{"replica":"r2","node":"n2","vv":{"r2":1},"stamp":6,"value":2.5}]}]}
            """));
        await AwaitConditionAsync(() => atA.Conflicts.ContainsKey("k") && atB.Conflicts.ContainsKey("k"), TestTimeouts.Default, message: "the conflict on k on a and b");

        // The next write to k on a has seen both: it must be answered at once and reach b like any other write.
        var changes = new ConcurrentQueue<DictionaryChange<double>>();
        using var onChanged = atA.OnChanged(changes.Enqueue);
        var failed = await Record.ExceptionAsync(() => atA.SetAsync("k", 7.0).WaitAsync(TestTimeouts.Default));
        Assert.True(failed is null, $"SetAsync on a after a resolved conflict failed: {failed}");
        await WaitFor(atB, "k", 7.0);
        Assert.Contains(changes, change => change.Key == "k" && change.Value == 7.0 && change.IsLocal);
    }

    private static JsonElement Json(string text) => JsonElement.Parse(text);
}
