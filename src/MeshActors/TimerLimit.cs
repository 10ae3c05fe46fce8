namespace MeshActors;

/// <summary>The longest wait a .NET timer takes (<c>Task.Delay</c>, <c>CancelAfter</c>): 2^32-2 ms, about 49.7 days.</summary>
/// <remarks>A timeout above it throws where it is used, at every request or registry call: options refuse it up front.</remarks>
internal static class TimerLimit
{
    public static readonly TimeSpan Max = TimeSpan.FromMilliseconds(uint.MaxValue - 1.0);

    /// <summary>True for a wait a timer can make: positive, and at most <see cref="Max"/>.</summary>
    public static bool Fits(TimeSpan wait) => wait > TimeSpan.Zero && wait <= Max;
}
