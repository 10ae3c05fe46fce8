namespace MeshActors.Actors.Tests;

using MeshActors.TestKit;
using Xunit.Sdk;

/// <summary>TestKit semantics as Akka.NET's: nested Within blocks, long limits, a kit's cleanup that throws.</summary>
public sealed class TestKitEdgeSpec(ITestOutputHelper output) : TestKit(output)
{
    [Fact]
    public void A_Within_block_must_not_fail_when_the_nested_block_it_ends_with_ended_on_ExpectNoMsg()
    {
        // Akka.NET's LastWasNoMsg is one flag for the kit: the ExpectNoMsg() that listened to the shared deadline
        // lets both blocks end just after it. Here the allowance is set on the inner block only, so the outer one
        // fails on a deadline that nothing inside it missed.
        // The ExpectNoMsg timer ends the wait a little before or after the deadline; ten blocks make "after" certain.
        for (var i = 0; i < 10; i++)
        {
            Within(TimeSpan.FromMilliseconds(100), () =>
            {
                Within(TimeSpan.FromSeconds(1), () => ExpectNoMsg());
            });
        }
    }

    [Fact]
    public void A_Within_block_must_fail_when_a_nested_block_made_it_too_slow_after_its_ExpectNoMsg()
    {
        // The receive inside the nested block clears the nested block's allowance only: the outer block keeps the
        // one its own ExpectNoMsg() set, and passes although it ran about 500 ms past its 200 ms.
        using var late = new Timer(_ => TestActor.Tell("late", ActorRefs.NoSender), null, Dilated(TimeSpan.FromMilliseconds(700)), Timeout.InfiniteTimeSpan);

        Assert.Throws<XunitException>(() => Within(TimeSpan.FromMilliseconds(200), () =>
        {
            ExpectNoMsg();                                                                     // listens to the 200 ms deadline
            Within(TimeSpan.FromSeconds(2), () => ExpectMsg("late", TimeSpan.FromSeconds(3))); // about 500 ms after it
        }));
    }

    [Fact]
    public void A_Within_block_with_TimeSpan_MaxValue_must_leave_its_expectations_time_to_wait()
    {
        // TimeSpan.MaxValue is what callers pass for "no limit": a deadline or a CancellationTokenSource cannot hold it,
        // and the expectation must wait all the same.
        using var soon = new Timer(_ => TestActor.Tell("soon", ActorRefs.NoSender), null, TimeSpan.FromMilliseconds(100), Timeout.InfiniteTimeSpan);

        Within(TimeSpan.MaxValue, () => ExpectMsg("soon"));
    }

    [Fact]
    public void An_expectation_with_a_long_timeout_must_wait_not_throw()
    {
        // CancellationTokenSource takes at most about 49.7 days: a longer timeout means no limit, not an
        // ArgumentOutOfRangeException out of the probe.
        using var soon = new Timer(_ => TestActor.Tell("soon", ActorRefs.NoSender), null, TimeSpan.FromMilliseconds(100), Timeout.InfiniteTimeSpan);

        Assert.Equal("soon", ExpectMsg<string>(timeout: TimeSpan.FromDays(60)));
    }

    [Fact]
    public async Task A_TestKit_must_terminate_its_system_even_when_the_tests_own_cleanup_throws()
    {
        // Dispose() runs the override of Dispose(bool) first and terminates the system only if it returns; it has
        // already set _disposed, so a second Dispose() does nothing either: the system, its actors and their timers
        // live on for the rest of the test run.
        var kit = await Task.Run(() => new FailingCleanupKit());
        var system = kit.Sys;

        var failure = await Task.Run(() => Record.Exception(kit.Dispose));
        Assert.NotNull(failure);
        await Task.Run(() => Record.Exception(kit.Dispose));

        try
        {
            await AwaitConditionAsync(() => system.WhenTerminated.IsCompleted, TimeSpan.FromSeconds(5), message: "the kit's system is still running");
        }
        finally
        {
            await system.Terminate(); // not to leave it to the rest of the run when the spec fails
        }
    }

    private sealed class FailingCleanupKit() : TestKit(null)
    {
        protected override void Dispose(bool disposing) => throw new InvalidOperationException("the test's cleanup failed");
    }
}
