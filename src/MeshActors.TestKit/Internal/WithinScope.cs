using System.Diagnostics;

namespace MeshActors.TestKit.Internal;

/// <summary>The deadline of the innermost <c>Within</c> block on this async flow, which bounds the expectations inside it.</summary>
internal static class WithinScope
{
    private static readonly AsyncLocal<long?> s_deadline = new();

    /// <summary>The time left in the innermost <c>Within</c> block, or the default timeout outside of one.</summary>
    public static TimeSpan RemainingOrDefault => Remaining ?? TestKitSettings.DefaultTimeout;

    public static TimeSpan? Remaining =>
        s_deadline.Value is { } deadline ? Max(TimeSpan.Zero, Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline)) : null;

    /// <summary>An explicit timeout is dilated; no timeout means the time left (or the default).</summary>
    public static TimeSpan Resolve(TimeSpan? timeout) => timeout is { } t ? TestKitSettings.Dilated(t) : RemainingOrDefault;

    public static long? Enter(TimeSpan max)
    {
        var previous = s_deadline.Value;
        var deadline = Stopwatch.GetTimestamp() + (long)(max.TotalSeconds * Stopwatch.Frequency);
        s_deadline.Value = previous is { } outer && outer < deadline ? outer : deadline;
        return previous;
    }

    public static void Exit(long? previous) => s_deadline.Value = previous;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
