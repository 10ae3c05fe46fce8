namespace MeshActors.Actors.Internal;

/// <summary>
/// The durations the kernel arms <see cref="Timer"/>s with. A .NET timer refuses anything above
/// 4294967294 ms (about 49.7 days); the kernel treats such a duration as infinite, the timer never fires, instead
/// of throwing from an Ask, a GracefulStop, a timer or a receive timeout.
/// </summary>
internal static class TimerDuration
{
    /// <summary>The longest duration a <see cref="Timer"/> accepts.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromMilliseconds(uint.MaxValue - 1.0);

    /// <summary><paramref name="duration"/>, or <see cref="Timeout.InfiniteTimeSpan"/> when it is longer than <see cref="Max"/>.</summary>
    public static TimeSpan Clamp(TimeSpan duration) => duration > Max ? Timeout.InfiniteTimeSpan : duration;
}
