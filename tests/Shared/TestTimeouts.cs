using MeshActors.TestKit;

namespace MeshActors.Testing;

/// <summary>Deadlines for waits on tasks in mesh-level tests, scaled by MESHACTORS_TEST_TIMEFACTOR through the TestKit.</summary>
internal static class TestTimeouts
{
    /// <summary>How long a test waits for something that should happen at once: 15 s times the factor.</summary>
    public static TimeSpan Default => TestKitSettings.Dilated(TimeSpan.FromSeconds(15));

    /// <summary>How long a test that moves a lot of data may take before it counts as hung: 30 s times the factor.</summary>
    public static TimeSpan Long => TestKitSettings.Dilated(TimeSpan.FromSeconds(30));

    /// <summary>
    /// How much earlier than asked a .NET timer may fire, by a Stopwatch started at the same moment: timers count time
    /// with Environment.TickCount64, which Linux serves from its coarse monotonic clock (4 ms ticks here), and a loaded
    /// machine delivers those ticks late (a 40 ms timer fired after 34.9 ms on CI).
    /// </summary>
    public static readonly TimeSpan TimerSlack = TimeSpan.FromMilliseconds(10);

    public static TimeSpan Scaled(TimeSpan timeout) => TestKitSettings.Dilated(timeout);

    public static Task WithTimeout(this Task task) => task.WaitAsync(Default);

    public static Task<T> WithTimeout<T>(this Task<T> task) => task.WaitAsync(Default);

    public static Task<T> WithTimeout<T>(this ValueTask<T> task) => task.AsTask().WaitAsync(Default);

    public static Task WithTimeout(this ValueTask task) => task.AsTask().WaitAsync(Default);
}
