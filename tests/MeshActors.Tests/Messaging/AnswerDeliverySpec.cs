using MeshActors.Messaging;
using MeshActors.Protocol;
using MeshActors.Tests.Mesh;
using Xunit.Abstractions;

namespace MeshActors.Tests.Messaging;

/// <summary>
/// How answers reach their callers (docs/architecture.md, Answers): those of one read together, on a thread of the
/// pool, never on the read loop, the canceller's or the failing channel's thread.
/// </summary>
public sealed class AnswerDeliverySpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    [Fact]
    public async Task A_caller_that_blocks_after_its_answer_must_not_hold_back_the_answers_read_with_it()
    {
        var (blocking, waiting) = (Pending(1), Pending(2));
        using var release = new ManualResetEventSlim();
        var blocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var blocker = blocking.Task.ContinueWith(_ =>
        {
            blocked.SetResult();
            release.Wait(TestTimeouts.Long); // the thread its answer was settled on, held
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        AnswerBatch.Gather();
        blocking.Answer(Answer(1));
        waiting.Answer(Answer(2));
        AnswerBatch.Dispatch();
        try
        {
            await blocked.Task.WithTimeout();
            Assert.Equal(2, ((Envelope.Res)await waiting.Task.WithTimeout()).Id);
        }
        finally
        {
            release.Set();
            await blocker.WithTimeout();
        }
    }

    [Fact]
    public async Task An_answer_settled_outside_a_read_must_run_its_caller_on_another_thread()
    {
        var pending = Pending(1);
        using var settled = new ManualResetEventSlim();
        var caller = RunsAfter(pending, settled);

        pending.Answer(Answer(1));
        settled.Set();

        Assert.True(await caller.WithTimeout(), "the caller's code ran inside the call that settled it");
    }

    [Fact]
    public async Task A_failed_or_cancelled_wait_must_run_its_caller_on_another_thread()
    {
        var (failed, cancelled) = (Pending(1), Pending(2));
        using var settled = new ManualResetEventSlim();
        var (failedCaller, cancelledCaller) = (RunsAfter(failed, settled), RunsAfter(cancelled, settled));
        using var cancel = new CancellationTokenSource();
        using var registration = cancelled.CancelWith(cancel.Token);

        failed.Fail(new InvalidOperationException("the channel closed"));
        cancel.Cancel(); // its callbacks run here, on this thread
        settled.Set();

        Assert.True(await failedCaller.WithTimeout(), "the caller's code ran inside the call that failed it");
        Assert.True(await cancelledCaller.WithTimeout(), "the caller's code ran inside the cancellation");
        await Assert.ThrowsAsync<InvalidOperationException>(() => failed.Task);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.Task);
    }

    [Fact]
    public async Task A_caller_waiting_for_a_provider_must_not_run_on_the_thread_that_cancels_it()
    {
        var node = await Start("lonely");
        using var cancel = new CancellationTokenSource();
        using var settled = new ManualResetEventSlim();
        var call = node.RequestAsync<int, int>("nobody", 1, new RequestOptions { WaitForProvider = TestTimeouts.Long }, cancel.Token);
        var caller = call.ContinueWith(
            _ => settled.Wait(TestTimeouts.Default), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        cancel.Cancel(); // its callbacks run here, on this thread
        settled.Set();

        Assert.True(await caller.WithTimeout(), "the caller's code ran inside the cancellation");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    [Fact]
    public async Task A_caller_blocking_after_its_answer_must_not_stop_the_channel_from_reading_the_next_answers()
    {
        var (client, server) = await StartConnected("client", "server");
        await server.AddService<int, int>("echo", (n, _, _) => new ValueTask<int>(n)).Ready;
        await WaitForProviders(client, "echo", 1);
        using var release = new ManualResetEventSlim();
        var blocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var blocker = Task.Run(async () =>
        {
            await client.RequestAsync<int, int>("echo", 1);
            blocked.SetResult();
            release.Wait(TestTimeouts.Long);
        });

        try
        {
            await blocked.Task.WithTimeout();
            Assert.Equal(2, await client.RequestAsync<int, int>("echo", 2).WithTimeout());
        }
        finally
        {
            release.Set();
            await blocker.WithTimeout();
        }
    }

    [Fact]
    public async Task Many_answers_arriving_together_must_each_reach_their_own_caller()
    {
        var (client, server) = await StartConnected("client", "server");
        await server.AddService<int, int>("square", (n, _, _) => new ValueTask<int>(n * n)).Ready;
        await WaitForProviders(client, "square", 1);

        var calls = Enumerable.Range(0, 2000).Select(n => client.RequestAsync<int, int>("square", n)).ToArray();
        var answers = await Task.WhenAll(calls).WithTimeout();

        Assert.Equal(Enumerable.Range(0, 2000).Select(n => n * n), answers);
    }

    private static PendingRequest Pending(long id) => new(id, "echo", new RouteCandidate("node", "node", peer: null));

    private static Envelope.Res Answer(long id) => new(id, Payload.Null);

    // Whether the code awaiting the request ran only once the call that settled it had returned: run inside that call,
    // it waits in vain for the gate the settling thread opens after it.
    private static Task<bool> RunsAfter(PendingRequest pending, ManualResetEventSlim settled) => pending.Task.ContinueWith(
        _ => settled.Wait(TestTimeouts.Default), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
