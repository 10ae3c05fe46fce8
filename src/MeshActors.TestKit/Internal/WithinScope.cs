using System.Diagnostics;

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
        if (max == Timeout.InfiniteTimeSpan)
        {
            return previous; // no deadline of its own; an outer one still applies
        }

        var deadline = Stopwatch.GetTimestamp() + (long)(max.TotalSeconds * Stopwatch.Frequency);
        s_block.Value = new Block(previous is { } outer && outer.Deadline < deadline ? outer.Deadline : deadline);
        return previous;
    }

    public static void Exit(Block? previous) => s_block.Value = previous;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>One <c>Within</c> block.</summary>
    internal sealed class Block(long deadline)
    {
        public long Deadline { get; } = deadline;

        /// <summary>
        /// An <c>ExpectNoMsg()</c> listened until the deadline: the block may then end just after it without failing
        /// (Akka.NET's <c>lastWasNoMsg</c>).
        /// </summary>
        public bool EndedListeningForNoMessage { get; set; }
    }
}
