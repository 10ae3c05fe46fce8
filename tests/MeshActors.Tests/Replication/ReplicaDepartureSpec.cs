using MeshActors.Replication;
using Xunit.Abstractions;
using MeshActors.Tests.Mesh;

namespace MeshActors.Tests.Replication;

using MeshActors.TestKit;

/// <summary>
/// What a replica's departure costs and counts (docs/replication.md, "Deltas, at most once; repaired by re-sync": "When a
/// replica leaves ..., each remaining replica sends the others its state unasked"). Real nodes on loopback HTTP/2.
/// </summary>
public sealed class ReplicaDepartureSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    /// <summary>
    /// ReplicationStats.StatesReceived: "Whole states received from another replica (counted at their final message)".
    /// A state sent unasked at a departure is a whole state, sent (and counted in StatesSent) by one replica and merged by
    /// the other: the receiver must count it too, or the two counters of a mesh never agree again after a departure.
    /// </summary>
    [Fact]
    public async Task A_whole_state_sent_unasked_at_a_departure_must_be_counted_in_StatesReceived_by_the_replica_that_merged_it()
    {
        var (a, b, c) = await StartConnected("a", "b", "c");
        var atA = await Open<string>(a, "d");
        var atB = await Open<string>(b, "d");
        var atC = await Open<string>(c, "d");
        foreach (var node in new[] { a, b, c })
            await WaitForReplicas(node, "d", 2);
        await atA.SetAsync("k", "v");
        await WaitFor(atB, "k", "v");

        // Every pull of the opens answered: each replica pulled each other one as it opened or appeared, and was pulled.
        await AwaitConditionAsync(
            () => new[] { atA, atB, atC }.All(replica => replica.Stats.StatesSent == 2 && replica.Stats.StatesReceived == 2),
            TestTimeouts.Default,
            message: "every pull answered: two states sent and two received by each replica");
        var (sentByA, receivedByB) = (atA.Stats.StatesSent, atB.Stats.StatesReceived);
        var (sentByB, receivedByA) = (atB.Stats.StatesSent, atA.Stats.StatesReceived);

        // c closes: a and b each send the other their state, unasked.
        await atC.DisposeAsync();
        await WaitForReplicas(a, "d", 1);
        await WaitForReplicas(b, "d", 1);
        await AwaitConditionAsync(
            () => atA.Stats.StatesSent == sentByA + 1 && atB.Stats.StatesSent == sentByB + 1,
            TestTimeouts.Default,
            message: "a and b to send each other their state at c's departure");

        // A delta queued after each state, on the same channel: once it is merged, so is the state before it.
        await atA.SetAsync("after-a", "1");
        await atB.SetAsync("after-b", "1");
        await WaitFor(atB, "after-a", "1");
        await WaitFor(atA, "after-b", "1");

        Output!.WriteLine($"a: sent {atA.Stats.StatesSent}, received {atA.Stats.StatesReceived}; b: sent {atB.Stats.StatesSent}, received {atB.Stats.StatesReceived}");
        Assert.True(
            atB.Stats.StatesReceived == receivedByB + 1 && atA.Stats.StatesReceived == receivedByA + 1,
            $"each replica merged the other's whole state, yet StatesReceived went from {receivedByB} to {atB.Stats.StatesReceived} on b and from {receivedByA} to {atA.Stats.StatesReceived} on a, while StatesSent rose by one on each");
    }
}
