using MeshActors.Actors;
using MeshActors.Actors.Internal;
using MeshActors.TestKit.Internal;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace MeshActors.TestKit;

/// <summary>
/// The base class of actor tests (Akka.NET's TestKit): owns an <see cref="ActorSystem"/> per test (<see cref="Sys"/>),
/// shut down on dispose; a default probe, <see cref="TestActor"/>, which is also the implicit sender of Tells made
/// by the test body; expectations on that probe; and <c>Within</c>, <c>AwaitCondition</c>, <c>AwaitAssert</c>.
/// In a namespace under <c>MeshActors</c>, write <c>using MeshActors.TestKit;</c> after the namespace line (or the
/// name <c>TestKit</c> means the namespace).
/// </summary>
public abstract class TestKit : IDisposable
{
    private readonly TestProbe _testProbe;
    private bool _disposed;

    /// <summary>Creates the system (named after the test class); with <paramref name="output"/>, the system logs to the test output.</summary>
    protected TestKit(ITestOutputHelper? output = null, ActorSystemOptions? options = null)
    {
        Output = output;
        options ??= new ActorSystemOptions();
        if (output is not null && options.LoggerFactory is null)
        {
            options = options with { LoggerFactory = new XunitLoggerFactory(output, LogLevel.Debug) };
        }

        var name = new string(GetType().Name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray());
        Sys = ActorSystem.Create(name, options);
        _testProbe = new TestProbe(Sys, "testActor");
        ActorCell.SetImplicitSender(_testProbe.Ref);
    }

    /// <summary>The test's actor system.</summary>
    public ActorSystem Sys { get; }

    /// <summary>The test output, when given.</summary>
    public ITestOutputHelper? Output { get; }

    /// <summary>The default probe's actor; the sender of Tells made by the test body without one.</summary>
    public IActorRef TestActor => _testProbe.Ref;

    /// <summary>The sender of the last message the default probe received.</summary>
    public IActorRef LastSender => _testProbe.LastSender;

    /// <summary>The time left in the enclosing <c>Within</c> block, else the default timeout.</summary>
    public TimeSpan Remaining => WithinScope.RemainingOrDefault;

    /// <summary>Creates another probe in <see cref="Sys"/>.</summary>
    public TestProbe CreateTestProbe(string? name = null) => new(Sys, name);

    /// <summary><paramref name="duration"/> times <see cref="TestKitSettings.TimeFactor"/>.</summary>
    public static TimeSpan Dilated(TimeSpan duration) => TestKitSettings.Dilated(duration);

    /// <summary>See <see cref="TestProbe.ExpectMsg{T}(Predicate{T}?, TimeSpan?)"/> (on the default probe).</summary>
    public T ExpectMsg<T>(Predicate<T>? predicate = null, TimeSpan? timeout = null) => _testProbe.ExpectMsg(predicate, timeout);

    /// <summary>See <see cref="TestProbe.ExpectMsg{T}(T, TimeSpan?)"/> (on the default probe).</summary>
    public T ExpectMsg<T>(T expected, TimeSpan? timeout = null) => _testProbe.ExpectMsg(expected, timeout);

    /// <summary>See <see cref="TestProbe.ExpectMsgAsync{T}(Predicate{T}?, TimeSpan?)"/> (on the default probe).</summary>
    public Task<T> ExpectMsgAsync<T>(Predicate<T>? predicate = null, TimeSpan? timeout = null) => _testProbe.ExpectMsgAsync(predicate, timeout);

    /// <summary>See <see cref="TestProbe.ExpectMsgAsync{T}(T, TimeSpan?)"/> (on the default probe).</summary>
    public Task<T> ExpectMsgAsync<T>(T expected, TimeSpan? timeout = null) => _testProbe.ExpectMsgAsync(expected, timeout);

    /// <summary>See <see cref="TestProbe.ExpectMsgAnyOf{T}"/> (on the default probe).</summary>
    public T ExpectMsgAnyOf<T>(params T[] messages) => _testProbe.ExpectMsgAnyOf(messages);

    /// <summary>See <see cref="TestProbe.ExpectMsgAnyOfAsync{T}"/> (on the default probe).</summary>
    public Task<T> ExpectMsgAnyOfAsync<T>(IEnumerable<T> messages, TimeSpan? timeout = null) => _testProbe.ExpectMsgAnyOfAsync(messages, timeout);

    /// <summary>See <see cref="TestProbe.ExpectMsgAllOf{T}(T[])"/> (on the default probe).</summary>
    public IReadOnlyList<T> ExpectMsgAllOf<T>(params T[] messages) => _testProbe.ExpectMsgAllOf(messages);

    /// <summary>See <see cref="TestProbe.ExpectMsgAllOf{T}(TimeSpan, T[])"/> (on the default probe).</summary>
    public IReadOnlyList<T> ExpectMsgAllOf<T>(TimeSpan max, params T[] messages) => _testProbe.ExpectMsgAllOf(max, messages);

    /// <summary>See <see cref="TestProbe.ExpectMsgAllOfAsync{T}"/> (on the default probe).</summary>
    public Task<IReadOnlyList<T>> ExpectMsgAllOfAsync<T>(IEnumerable<T> messages, TimeSpan? timeout = null) => _testProbe.ExpectMsgAllOfAsync(messages, timeout);

    /// <summary>See <see cref="TestProbe.ExpectMsgFrom{T}"/> (on the default probe).</summary>
    public T ExpectMsgFrom<T>(IActorRef sender, Predicate<T>? predicate = null, TimeSpan? timeout = null) => _testProbe.ExpectMsgFrom(sender, predicate, timeout);

    /// <summary>See <see cref="TestProbe.ExpectMsgFromAsync{T}"/> (on the default probe).</summary>
    public Task<T> ExpectMsgFromAsync<T>(IActorRef sender, Predicate<T>? predicate = null, TimeSpan? timeout = null) => _testProbe.ExpectMsgFromAsync(sender, predicate, timeout);

    /// <summary>See <see cref="TestProbe.IgnoreMessages(Func{object, bool})"/> (on the default probe).</summary>
    public void IgnoreMessages(Func<object, bool> shouldIgnore) => _testProbe.IgnoreMessages(shouldIgnore);

    /// <summary>See <see cref="TestProbe.IgnoreMessages{T}"/> (on the default probe).</summary>
    public void IgnoreMessages<T>(Func<T, bool>? shouldIgnore = null) => _testProbe.IgnoreMessages(shouldIgnore);

    /// <summary>See <see cref="TestProbe.IgnoreNoMessages"/> (on the default probe).</summary>
    public void IgnoreNoMessages() => _testProbe.IgnoreNoMessages();

    /// <summary>See <see cref="TestProbe.ExpectNoMsg"/> (on the default probe).</summary>
    public void ExpectNoMsg(TimeSpan? duration = null) => _testProbe.ExpectNoMsg(duration);

    /// <summary>See <see cref="TestProbe.ExpectNoMsgAsync"/> (on the default probe).</summary>
    public Task ExpectNoMsgAsync(TimeSpan? duration = null) => _testProbe.ExpectNoMsgAsync(duration);

    /// <summary>See <see cref="TestProbe.ExpectTerminated"/> (on the default probe).</summary>
    public Terminated ExpectTerminated(IActorRef target, TimeSpan? timeout = null) => _testProbe.ExpectTerminated(target, timeout);

    /// <summary>See <see cref="TestProbe.ExpectTerminatedAsync"/> (on the default probe).</summary>
    public Task<Terminated> ExpectTerminatedAsync(IActorRef target, TimeSpan? timeout = null) => _testProbe.ExpectTerminatedAsync(target, timeout);

    /// <summary>See <see cref="TestProbe.FishForMessage{T}"/> (on the default probe).</summary>
    public T FishForMessage<T>(Predicate<T> isTheOne, TimeSpan? timeout = null) => _testProbe.FishForMessage(isTheOne, timeout);

    /// <summary>See <see cref="TestProbe.FishForMessageAsync{T}"/> (on the default probe).</summary>
    public Task<T> FishForMessageAsync<T>(Predicate<T> isTheOne, TimeSpan? timeout = null) => _testProbe.FishForMessageAsync(isTheOne, timeout);

    /// <summary>See <see cref="TestProbe.ReceiveWhile{T}"/> (on the default probe).</summary>
    public IReadOnlyList<T> ReceiveWhile<T>(Predicate<T>? shouldContinue = null, TimeSpan? max = null, TimeSpan? idle = null, int maxMessages = int.MaxValue) =>
        _testProbe.ReceiveWhile(shouldContinue, max, idle, maxMessages);

    /// <summary>See <see cref="TestProbe.ReceiveWhileAsync{T}"/> (on the default probe).</summary>
    public Task<IReadOnlyList<T>> ReceiveWhileAsync<T>(Predicate<T>? shouldContinue = null, TimeSpan? max = null, TimeSpan? idle = null, int maxMessages = int.MaxValue) =>
        _testProbe.ReceiveWhileAsync(shouldContinue, max, idle, maxMessages);

    /// <summary>See <see cref="TestProbe.ReceiveN"/> (on the default probe).</summary>
    public IReadOnlyList<object> ReceiveN(int count, TimeSpan? timeout = null) => _testProbe.ReceiveN(count, timeout);

    /// <summary>See <see cref="TestProbe.ReceiveNAsync"/> (on the default probe).</summary>
    public Task<IReadOnlyList<object>> ReceiveNAsync(int count, TimeSpan? timeout = null) => _testProbe.ReceiveNAsync(count, timeout);

    /// <summary>Makes the default probe receive a <see cref="Terminated"/> when <paramref name="target"/> stops.</summary>
    public IActorRef Watch(IActorRef target) => _testProbe.Watch(target);

    /// <summary>Withdraws a <see cref="Watch"/>.</summary>
    public IActorRef Unwatch(IActorRef target) => _testProbe.Unwatch(target);

    /// <summary>Replies to <see cref="LastSender"/> from the default probe.</summary>
    public void Reply(object message) => _testProbe.Reply(message);

    /// <summary>Runs <paramref name="action"/>, failing if it takes longer than <paramref name="max"/> (dilated), which also bounds the expectations inside.</summary>
    public void Within(TimeSpan max, Action action) => Within(TimeSpan.Zero, max, action);

    /// <summary>Runs <paramref name="action"/>, failing if it takes less than <paramref name="min"/> or more than <paramref name="max"/> (dilated).</summary>
    public void Within(TimeSpan min, TimeSpan max, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        var dilatedMax = Dilated(max);
        var previous = WithinScope.Enter(dilatedMax);
        var block = WithinScope.Current;
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            action();
        }
        finally
        {
            WithinScope.Exit(previous);
        }

        CheckWithin(min, dilatedMax, System.Diagnostics.Stopwatch.GetElapsedTime(start), block);
    }

    /// <summary>
    /// Runs the async <paramref name="action"/> and waits for it, failing if it takes longer than <paramref name="max"/>
    /// (dilated). An <c>async</c> lambda binds here, not to the <see cref="Action"/> overload, where it would run as
    /// <c>async void</c> and never fail.
    /// </summary>
    public void Within(TimeSpan max, Func<Task> action) => Within(TimeSpan.Zero, max, action);

    /// <summary>Same as <see cref="Within(TimeSpan, Func{Task})"/>, also failing if it takes less than <paramref name="min"/>.</summary>
    public void Within(TimeSpan min, TimeSpan max, Func<Task> action)
    {
        ArgumentNullException.ThrowIfNull(action);

        // Off the test's synchronization context, which the action's awaits may need while this thread blocks.
        Task.Run(() => WithinAsync(min, max, action)).GetAwaiter().GetResult();
    }

    /// <summary>Async twin of <see cref="Within(TimeSpan, Action)"/>.</summary>
    public Task WithinAsync(TimeSpan max, Func<Task> action) => WithinAsync(TimeSpan.Zero, max, action);

    /// <summary>Async twin of <see cref="Within(TimeSpan, TimeSpan, Action)"/>.</summary>
    public async Task WithinAsync(TimeSpan min, TimeSpan max, Func<Task> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        var dilatedMax = Dilated(max);
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        var block = await RunWithin(dilatedMax, action).ConfigureAwait(false);
        CheckWithin(min, dilatedMax, System.Diagnostics.Stopwatch.GetElapsedTime(start), block);

        // An async method keeps its AsyncLocal changes to itself, so the deadline never leaks to the caller.
        static async Task<WithinScope.Block?> RunWithin(TimeSpan max, Func<Task> action)
        {
            WithinScope.Enter(max);
            var block = WithinScope.Current;
            await action().ConfigureAwait(false);
            return block;
        }
    }

    /// <summary>See <see cref="Conditions.AwaitCondition"/>.</summary>
    public void AwaitCondition(Func<bool> condition, TimeSpan? max = null, TimeSpan? interval = null, string? message = null) =>
        Conditions.AwaitCondition(condition, max, interval, message);

    /// <summary>See <see cref="Conditions.AwaitConditionAsync(Func{bool}, TimeSpan?, TimeSpan?, string?)"/>.</summary>
    public Task AwaitConditionAsync(Func<bool> condition, TimeSpan? max = null, TimeSpan? interval = null, string? message = null) =>
        Conditions.AwaitConditionAsync(condition, max, interval, message);

    /// <summary>See <see cref="Conditions.AwaitConditionAsync(Func{Task{bool}}, TimeSpan?, TimeSpan?, string?)"/>.</summary>
    public Task AwaitConditionAsync(Func<Task<bool>> condition, TimeSpan? max = null, TimeSpan? interval = null, string? message = null) =>
        Conditions.AwaitConditionAsync(condition, max, interval, message);

    /// <summary>See <see cref="Conditions.AwaitAssert(Action, TimeSpan?, TimeSpan?)"/>.</summary>
    public void AwaitAssert(Action assertion, TimeSpan? max = null, TimeSpan? interval = null) =>
        Conditions.AwaitAssert(assertion, max, interval);

    /// <summary>See <see cref="Conditions.AwaitAssert(Func{Task}, TimeSpan?, TimeSpan?)"/>.</summary>
    public void AwaitAssert(Func<Task> assertion, TimeSpan? max = null, TimeSpan? interval = null) =>
        Conditions.AwaitAssert(assertion, max, interval);

    /// <summary>See <see cref="Conditions.AwaitAssertAsync"/>.</summary>
    public Task AwaitAssertAsync(Func<Task> assertion, TimeSpan? max = null, TimeSpan? interval = null) =>
        Conditions.AwaitAssertAsync(assertion, max, interval);

    /// <summary>Terminates <see cref="Sys"/>, failing the test if that takes longer than <see cref="TestKitSettings.ShutdownTimeout"/>.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        ActorCell.SetImplicitSender(null);
        GC.SuppressFinalize(this);
        try
        {
            Dispose(disposing: true);
        }
        finally
        {
            // Also when the test's own clean-up threw: its system, actors and timers must not outlive it.
            var limit = TestKitSettings.ShutdownTimeout;
            if (!Sys.Terminate().Wait(limit))
            {
                throw new XunitException($"{Sys} did not terminate within {limit.TotalSeconds:0.#} s.");
            }
        }
    }

    /// <summary>Override to release the test's own resources; runs before the system terminates.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }

    private static void CheckWithin(TimeSpan min, TimeSpan max, TimeSpan elapsed, WithinScope.Block? block)
    {
        if (elapsed < min)
        {
            throw new XunitException($"The block took {elapsed.TotalSeconds:0.###} s, less than the expected {min.TotalSeconds:0.###} s.");
        }

        if (max != Timeout.InfiniteTimeSpan && elapsed > max && block is not { EndedListeningForNoMessage: true })
        {
            throw new XunitException($"The block took {elapsed.TotalSeconds:0.###} s, more than the allowed {max.TotalSeconds:0.###} s.");
        }
    }
}
