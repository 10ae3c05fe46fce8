using MeshActors.Tests.Mesh;
using Xunit.Abstractions;

namespace MeshActors.Tests.Replication;

using MeshActors.TestKit;

/// <summary>A stopped node must not leave a replica spinning: measured by the whole process's allocations, so it runs alone.</summary>
[Collection(nameof(ProcessMeasuringCollection))]
public sealed class ReplicaAfterStopSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    [Fact]
    public async Task A_replica_must_not_spin_flooding_its_own_mailbox_once_its_stopped_nodes_routes_are_closed()
    {
        var a = await Start("a");
        var atA = await Open<int>(a, "d");

        // A handler that takes its time (docs/replication.md: "a slow handler delays this replica's merges"), here until
        // released: the replica's actor is busy while its node stops.
        using var release = new ManualResetEventSlim();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var holding = atA.OnChanged(change =>
        {
            if (change.Key != "hold")
                return;
            entered.TrySetResult();
            release.Wait();
        });
        var held = atA.SetAsync("hold", 1);
        await entered.Task.WithTimeout();

        // The node stops; a wait for a subscriber hears when its routes are closed ("none will come").
        var routesClosed = a.WaitForSubscriberAsync("nobody", Timeout.InfiniteTimeSpan);
        var stopping = a.StopAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => routesClosed.WithTimeout());

        // Nothing happens in this process now but the stop waiting for the busy actor: a replica's route watcher looping
        // on the closed routes, telling the actor RoutesChanged each turn, would allocate hundreds of megabytes in seconds.
        var closedAt = GC.GetTotalAllocatedBytes();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        long allocated = 0;
        var flooded = true;
        try
        {
            await AwaitConditionAsync(() => (allocated = GC.GetTotalAllocatedBytes() - closedAt) > 256L << 20, TimeSpan.FromSeconds(5), message: "256 MiB allocated");
        }
        catch (Xunit.Sdk.XunitException)
        {
            flooded = false;
        }

        watch.Stop();
        release.Set();
        await stopping;
        await Record.ExceptionAsync(() => held); // answered or not: the node stopped under it
        Assert.False(flooded, $"{allocated / (1 << 20)} MiB allocated within {watch.Elapsed.TotalSeconds:0.0} s of the routes closing, while only a stop waited for a busy replica");
    }
}

/// <summary>Specs that measure the whole process (its allocations): nothing else runs beside them.</summary>
[CollectionDefinition(nameof(ProcessMeasuringCollection), DisableParallelization = true)]
public sealed class ProcessMeasuringCollection;
