using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace MeshActors.TestKit.Internal;

/// <summary>The deadline of the innermost <c>Within</c> block on this async flow, which bounds the expectations inside it.</summary>
internal static class WithinScope
{
    private static readonly AsyncLocal<Block?> s_block = new();

    /// <summary>The time left in the innermost <c>Within</c> block, or the default timeout outside of one.</summary>
    public static TimeSpan RemainingOrDefault => Remaining ?? TestKitSettings.DefaultTimeout;

    public static TimeSpan? Remaining =>
        s_block.Value is { } block ? Max(TimeSpan.Zero, Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), block.Deadline)) : null;

    /// <summary>The innermost block, if any.</summary>
    public static Block? Current => s_block.Value;

    /// <summary>An explicit timeout is dilated; no timeout means the time left (or the default).</summary>
    public static TimeSpan Resolve(TimeSpan? timeout) => timeout is { } t ? TestKitSettings.Dilated(t) : RemainingOrDefault;

    /// <summary>What is left of <paramref name="limit"/> since <paramref name="start"/>: infinite stays infinite, else never below zero.</summary>
    public static TimeSpan Left(TimeSpan limit, long start) =>
        limit == Timeout.InfiniteTimeSpan ? limit : Max(TimeSpan.Zero, limit - Stopwatch.GetElapsedTime(start));

    /// <summary>The shorter of a wait and what is <see cref="Left"/> (either may be infinite).</summary>
    public static TimeSpan Shorter(TimeSpan left, TimeSpan wait) =>
        left == Timeout.InfiniteTimeSpan || (wait != Timeout.InfiniteTimeSpan && wait < left) ? wait : left;

    /// <summary>Opens a block ending after <paramref name="max"/> (or the outer block's end, if sooner); returns the outer block for <see cref="Exit"/>.</summary>
    public static Block? Enter(TimeSpan max)
    {
        var previous = s_block.Value;
        if (IsUnbounded(max))
        {
            return previous; // no deadline of its own; an outer one still applies
        }

        var deadline = Stopwatch.GetTimestamp() + (long)(max.TotalSeconds * Stopwatch.Frequency);
        s_block.Value = new Block(previous is { } outer && outer.Deadline < deadline ? outer.Deadline : deadline, previous)
        {
            EndedListeningForNoMessage = false, // as Akka.NET clears lastWasNoMsg on entering a block
        };
        return previous;
    }

    /// <summary>Infinite, or longer than a .NET timer waits (2^32-2 ms, about 49.7 days; <see cref="TimeSpan.MaxValue"/>): no limit.</summary>
    public static bool IsUnbounded(TimeSpan timeout) => timeout == Timeout.InfiniteTimeSpan || timeout.TotalMilliseconds > uint.MaxValue - 2;

    public static void Exit(Block? previous) => s_block.Value = previous;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>One <c>Within</c> block.</summary>
    internal sealed class Block(long deadline, Block? outer)
    {
        // One for a block and the blocks nested in it, as Akka.NET has one lastWasNoMsg: a nested block that ends
        // listening for no message lets its outer blocks end late too, and any receive in it clears theirs.
        private readonly StrongBox<bool> _endedListeningForNoMessage = outer?._endedListeningForNoMessage ?? new StrongBox<bool>();

        public long Deadline { get; } = deadline;

        /// <summary>
        /// An <c>ExpectNoMsg()</c> listened until the deadline: the block may then end just after it without failing
        /// (Akka.NET's <c>lastWasNoMsg</c>).
        /// </summary>
        public bool EndedListeningForNoMessage
        {
            get => _endedListeningForNoMessage.Value;
            set => _endedListeningForNoMessage.Value = value;
        }
    }
}
