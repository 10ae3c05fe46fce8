using System.Diagnostics;
using System.Threading.Channels;
using MeshActors.Actors;
using MeshActors.TestKit.Internal;
using Xunit.Sdk;

namespace MeshActors.TestKit;

/// <summary>
/// An actor the test controls: it records what it receives so that the test can expect messages, reply, forward
/// and watch. Timeouts: an explicit one is dilated by <see cref="TestKitSettings.TimeFactor"/>; without one, the time
/// left in the enclosing <c>Within</c> block, else <see cref="TestKitSettings.DefaultTimeout"/>. Every expectation
/// has an async twin; use one probe from one test at a time.
/// </summary>
public sealed class TestProbe
{
    private static int s_lastId;
    private readonly ChannelReader<ProbeActor.Received> _queue;

    internal TestProbe(ActorSystem system, string? name)
    {
        System = system;
        var channel = Channel.CreateUnbounded<ProbeActor.Received>(new UnboundedChannelOptions { SingleReader = true });
        _queue = channel.Reader;
        Ref = system.SystemActorOf(
            Props.Create(() => new ProbeActor(channel.Writer)),
            $"{name ?? "testProbe"}-{Interlocked.Increment(ref s_lastId)}");
        LastSender = system.DeadLetters;
    }

    /// <summary>The probe's actor: give it to the code under test.</summary>
    public IActorRef Ref { get; }

    /// <summary>The system the probe lives in.</summary>
    public ActorSystem System { get; }

    /// <summary>The sender of the last message received (dead letters before any).</summary>
    public IActorRef LastSender { get; private set; }

    /// <summary>The last message received, if any.</summary>
    public object? LastMessage { get; private set; }

    /// <summary>Whether a message is waiting.</summary>
    public bool HasMessages => _queue.TryPeek(out _);

    /// <summary>Sends <paramref name="message"/> to the probe's actor.</summary>
    public void Tell(object message, IActorRef? sender = null) => Ref.Tell(message, sender);

    /// <summary>Sends <paramref name="message"/> to <paramref name="target"/> with the probe as sender.</summary>
    public void Send(IActorRef target, object message) => target.Tell(message, Ref);

    /// <summary>Replies to <see cref="LastSender"/> with the probe as sender.</summary>
    public void Reply(object message) => LastSender.Tell(message, Ref);

    /// <summary>Sends <paramref name="message"/> (default: the last message received) to <paramref name="target"/> on behalf of <see cref="LastSender"/>.</summary>
    public void Forward(IActorRef target, object? message = null) =>
        target.Tell(message ?? LastMessage ?? throw new InvalidOperationException("The probe has received nothing to forward."), LastSender);

    /// <summary>Makes the probe receive a <see cref="Terminated"/> when <paramref name="target"/> stops.</summary>
    public IActorRef Watch(IActorRef target)
    {
        Ref.Tell(new ProbeActor.WatchCommand(target), ActorRefs.NoSender);
        return target;
    }

    /// <summary>Withdraws a <see cref="Watch"/>.</summary>
    public IActorRef Unwatch(IActorRef target)
    {
        Ref.Tell(new ProbeActor.UnwatchCommand(target), ActorRefs.NoSender);
        return target;
    }

    /// <summary>Expects the next message to be a <typeparamref name="T"/> (matching <paramref name="predicate"/>) and returns it.</summary>
    public T ExpectMsg<T>(Predicate<T>? predicate = null, TimeSpan? timeout = null) =>
        ExpectMsgAsync(predicate, timeout).GetAwaiter().GetResult();

    /// <summary>Expects the next message to equal <paramref name="expected"/> and returns it.</summary>
    public T ExpectMsg<T>(T expected, TimeSpan? timeout = null) =>
        ExpectMsgAsync(expected, timeout).GetAwaiter().GetResult();

    /// <summary>Expects the next message to be a <typeparamref name="T"/> (matching <paramref name="predicate"/>) and returns it.</summary>
    public async Task<T> ExpectMsgAsync<T>(Predicate<T>? predicate = null, TimeSpan? timeout = null)
    {
        var limit = WithinScope.Resolve(timeout);
        var received = await ReceiveOneAsync(limit).ConfigureAwait(false)
            ?? throw new XunitException($"{Name}: timeout ({Seconds(limit)}) while expecting a {typeof(T).Name}.");
        if (received.Message is not T typed)
        {
            throw new XunitException($"{Name}: expected a {typeof(T).Name} but received {Describe(received)}.");
        }

        if (predicate is not null && !predicate(typed))
        {
            throw new XunitException($"{Name}: received {Describe(received)}, which does not match the predicate.");
        }

        return typed;
    }

    /// <summary>Expects the next message to equal <paramref name="expected"/> and returns it.</summary>
    public async Task<T> ExpectMsgAsync<T>(T expected, TimeSpan? timeout = null)
    {
        var limit = WithinScope.Resolve(timeout);
        var received = await ReceiveOneAsync(limit).ConfigureAwait(false)
            ?? throw new XunitException($"{Name}: timeout ({Seconds(limit)}) while expecting {expected}.");
        if (received.Message is not T typed || !EqualityComparer<T>.Default.Equals(typed, expected))
        {
            throw new XunitException($"{Name}: expected {expected} but received {Describe(received)}.");
        }

        return typed;
    }

    /// <summary>Expects the next message to equal one of <paramref name="messages"/>, and returns it.</summary>
    public T ExpectMsgAnyOf<T>(params T[] messages) => ExpectMsgAnyOfAsync(messages).GetAwaiter().GetResult();

    /// <summary>Expects the next message to equal one of <paramref name="messages"/>, and returns it.</summary>
    public async Task<T> ExpectMsgAnyOfAsync<T>(IEnumerable<T> messages, TimeSpan? timeout = null)
    {
        var expected = messages.ToList();
        var limit = WithinScope.Resolve(timeout);
        var received = await ReceiveOneAsync(limit).ConfigureAwait(false)
            ?? throw new XunitException($"{Name}: timeout ({Seconds(limit)}) while expecting one of {List(expected)}.");
        return received.Message is T typed && expected.Contains(typed)
            ? typed
            : throw new XunitException($"{Name}: expected one of {List(expected)} but received {Describe(received)}.");
    }

    /// <summary>
    /// Expects as many messages as <paramref name="messages"/> holds, equal to them in any order, and returns them as
    /// received. A message that is not one of those still expected fails at once, as in Akka.NET.
    /// </summary>
    public IReadOnlyList<T> ExpectMsgAllOf<T>(params T[] messages) => ExpectMsgAllOfAsync(messages).GetAwaiter().GetResult();

    /// <summary>As <see cref="ExpectMsgAllOf{T}(T[])"/>, all of them within <paramref name="max"/>.</summary>
    public IReadOnlyList<T> ExpectMsgAllOf<T>(TimeSpan max, params T[] messages) => ExpectMsgAllOfAsync(messages, max).GetAwaiter().GetResult();

    /// <summary>Async twin of <see cref="ExpectMsgAllOf{T}(T[])"/>.</summary>
    public async Task<IReadOnlyList<T>> ExpectMsgAllOfAsync<T>(IEnumerable<T> messages, TimeSpan? timeout = null)
    {
        var missing = messages.ToList();
        var limit = WithinScope.Resolve(timeout);
        var start = Stopwatch.GetTimestamp();
        var result = new List<T>(missing.Count);
        while (missing.Count > 0)
        {
            var received = await ReceiveOneAsync(WithinScope.Left(limit, start)).ConfigureAwait(false)
                ?? throw new XunitException($"{Name}: timeout ({Seconds(limit)}) while still expecting {List(missing)}.");
            if (received.Message is not T typed || !missing.Remove(typed))
            {
                throw new XunitException($"{Name}: received {Describe(received)}, which is not one of the messages still expected: {List(missing)}.");
            }

            result.Add(typed);
        }

        return result;
    }

    /// <summary>Expects the next message to be a <typeparamref name="T"/> (matching <paramref name="predicate"/>) sent by <paramref name="sender"/>, and returns it.</summary>
    public T ExpectMsgFrom<T>(IActorRef sender, Predicate<T>? predicate = null, TimeSpan? timeout = null) =>
        ExpectMsgFromAsync(sender, predicate, timeout).GetAwaiter().GetResult();

    /// <summary>Async twin of <see cref="ExpectMsgFrom{T}"/>.</summary>
    public async Task<T> ExpectMsgFromAsync<T>(IActorRef sender, Predicate<T>? predicate = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(sender);
        var message = await ExpectMsgAsync(predicate, timeout).ConfigureAwait(false);
        return LastSender.Equals(sender)
            ? message
            : throw new XunitException($"{Name}: expected {message} from {sender.Path} but it came from {LastSender.Path}.");
    }

    /// <summary>
    /// From now on the probe drops the messages for which <paramref name="shouldIgnore"/> is true, as Akka.NET's
    /// <c>IgnoreMessages</c> does: messages already received are kept, and a later call replaces the filter.
    /// </summary>
    public void IgnoreMessages(Func<object, bool> shouldIgnore)
    {
        ArgumentNullException.ThrowIfNull(shouldIgnore);
        Ref.Tell(new ProbeActor.IgnoreCommand(shouldIgnore), ActorRefs.NoSender);
    }

    /// <summary>From now on the probe drops every <typeparamref name="T"/> (those matching <paramref name="shouldIgnore"/> when given).</summary>
    public void IgnoreMessages<T>(Func<T, bool>? shouldIgnore = null) =>
        IgnoreMessages(message => message is T typed && (shouldIgnore is null || shouldIgnore(typed)));

    /// <summary>Withdraws <see cref="IgnoreMessages(Func{object, bool})"/>: from now on the probe keeps every message.</summary>
    public void IgnoreNoMessages() => Ref.Tell(new ProbeActor.IgnoreCommand(null), ActorRefs.NoSender);

    /// <summary>
    /// Expects no message for <paramref name="duration"/>; without one, for <see cref="TestKitSettings.DefaultNoMessageWait"/>
    /// or until the end of the enclosing <c>Within</c> block if that comes sooner (the block then does not fail for
    /// ending just after its deadline).
    /// </summary>
    public void ExpectNoMsg(TimeSpan? duration = null) => ExpectNoMsgAsync(duration).GetAwaiter().GetResult();

    /// <summary>Async twin of <see cref="ExpectNoMsg"/>.</summary>
    public async Task ExpectNoMsgAsync(TimeSpan? duration = null)
    {
        var limit = TestKitSettings.DefaultNoMessageWait;
        var block = duration is null && WithinScope.Remaining < limit ? WithinScope.Current : null;
        if (duration is { } d)
        {
            limit = TestKitSettings.Dilated(d);
        }
        else if (block is not null)
        {
            limit = WithinScope.Remaining ?? limit;
        }

        if (await ReceiveOneAsync(limit).ConfigureAwait(false) is { } received)
        {
            throw new XunitException($"{Name}: expected no message for {Seconds(limit)} but received {Describe(received)}.");
        }

        if (block is not null)
        {
            block.EndedListeningForNoMessage = true;
        }
    }

    /// <summary>Expects the <see cref="Terminated"/> of <paramref name="target"/> (watch it first) as the next message.</summary>
    public Terminated ExpectTerminated(IActorRef target, TimeSpan? timeout = null) =>
        ExpectTerminatedAsync(target, timeout).GetAwaiter().GetResult();

    /// <summary>Expects the <see cref="Terminated"/> of <paramref name="target"/> (watch it first) as the next message.</summary>
    public Task<Terminated> ExpectTerminatedAsync(IActorRef target, TimeSpan? timeout = null) =>
        ExpectMsgAsync<Terminated>(t => t.ActorRef.Equals(target), timeout);

    /// <summary>Skips messages until a <typeparamref name="T"/> matching <paramref name="isTheOne"/> arrives, and returns it.</summary>
    public T FishForMessage<T>(Predicate<T> isTheOne, TimeSpan? timeout = null) =>
        FishForMessageAsync(isTheOne, timeout).GetAwaiter().GetResult();

    /// <summary>Skips messages until a <typeparamref name="T"/> matching <paramref name="isTheOne"/> arrives, and returns it.</summary>
    public async Task<T> FishForMessageAsync<T>(Predicate<T> isTheOne, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(isTheOne);
        var limit = WithinScope.Resolve(timeout);
        var start = Stopwatch.GetTimestamp();
        var skipped = 0;
        while (await ReceiveOneAsync(WithinScope.Left(limit, start)).ConfigureAwait(false) is { } received)
        {
            if (received.Message is T typed && isTheOne(typed))
            {
                return typed;
            }

            skipped++;
        }

        throw new XunitException($"{Name}: no matching {typeof(T).Name} within {Seconds(limit)} ({skipped} other messages skipped).");
    }

    /// <summary>
    /// Receives messages while they are <typeparamref name="T"/> matching <paramref name="shouldContinue"/>, until
    /// <paramref name="max"/> has elapsed, no message came for <paramref name="idle"/>, or <paramref name="maxMessages"/>
    /// were received. The first message that does not match stays queued. Never fails.
    /// </summary>
    public IReadOnlyList<T> ReceiveWhile<T>(Predicate<T>? shouldContinue = null, TimeSpan? max = null, TimeSpan? idle = null, int maxMessages = int.MaxValue) =>
        ReceiveWhileAsync(shouldContinue, max, idle, maxMessages).GetAwaiter().GetResult();

    /// <summary>Async twin of <see cref="ReceiveWhile{T}"/>.</summary>
    public async Task<IReadOnlyList<T>> ReceiveWhileAsync<T>(Predicate<T>? shouldContinue = null, TimeSpan? max = null, TimeSpan? idle = null, int maxMessages = int.MaxValue)
    {
        var limit = WithinScope.Resolve(max);
        var idleLimit = idle is { } i ? TestKitSettings.Dilated(i) : Timeout.InfiniteTimeSpan;
        var start = Stopwatch.GetTimestamp();
        var result = new List<T>();
        while (result.Count < maxMessages)
        {
            var wait = WithinScope.Shorter(WithinScope.Left(limit, start), idleLimit);
            if (!await WaitForMessageAsync(wait).ConfigureAwait(false)
                || !_queue.TryPeek(out var next)
                || next.Message is not T typed
                || (shouldContinue is not null && !shouldContinue(typed)))
            {
                break;
            }

            Take();
            result.Add(typed);
        }

        return result;
    }

    /// <summary>Receives exactly <paramref name="count"/> messages of any type, in order.</summary>
    public IReadOnlyList<object> ReceiveN(int count, TimeSpan? timeout = null) =>
        ReceiveNAsync(count, timeout).GetAwaiter().GetResult();

    /// <summary>Receives exactly <paramref name="count"/> messages of any type, in order.</summary>
    public async Task<IReadOnlyList<object>> ReceiveNAsync(int count, TimeSpan? timeout = null)
    {
        var limit = WithinScope.Resolve(timeout);
        var start = Stopwatch.GetTimestamp();
        var result = new List<object>(count);
        while (result.Count < count)
        {
            var received = await ReceiveOneAsync(WithinScope.Left(limit, start)).ConfigureAwait(false)
                ?? throw new XunitException($"{Name}: received {result.Count} of {count} messages within {Seconds(limit)}.");
            result.Add(received.Message);
        }

        return result;
    }

    /// <summary>Receives the next message of any type, or null when none arrives within <paramref name="timeout"/>.</summary>
    public object? ReceiveOne(TimeSpan? timeout = null) => ReceiveOneAsync(WithinScope.Resolve(timeout)).GetAwaiter().GetResult()?.Message;

    /// <inheritdoc />
    public override string ToString() => $"TestProbe {Ref.Path}";

    private string Name => Ref.Path.Name;

    private async Task<ProbeActor.Received?> ReceiveOneAsync(TimeSpan timeout) =>
        await WaitForMessageAsync(timeout).ConfigureAwait(false) ? Take() : null;

    private ProbeActor.Received Take()
    {
        if (!_queue.TryRead(out var received))
        {
            throw new InvalidOperationException("A probe is read by one test at a time.");
        }

        LastMessage = received.Message;
        LastSender = received.Sender;
        return received;
    }

    private async Task<bool> WaitForMessageAsync(TimeSpan timeout)
    {
        // Every wait ends the allowance of an ExpectNoMsg() before it: only one that is the block's last wait has it.
        if (WithinScope.Current is { } block)
        {
            block.EndedListeningForNoMessage = false;
        }

        if (_queue.TryPeek(out _))
        {
            return true;
        }

        if (timeout <= TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            return false;
        }

        using var cancellation = WithinScope.IsUnbounded(timeout) ? new CancellationTokenSource() : new CancellationTokenSource(timeout);
        try
        {
            return await _queue.WaitToReadAsync(cancellation.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return false;
        }
    }

    private static string Describe(ProbeActor.Received received) =>
        $"{received.Message} ({received.Message.GetType().Name}) from {received.Sender.Path}";

    private static string List<T>(IEnumerable<T> messages) => "[" + string.Join(", ", messages) + "]";

    private static string Seconds(TimeSpan duration) => $"{duration.TotalSeconds:0.###} s";
}
