using MeshActors.TestKit;

namespace MeshActors.Testing;

/// <summary>Deadlines for waits on tasks in mesh-level tests, scaled by MESHACTORS_TEST_TIMEFACTOR through the TestKit.</summary>
internal static class TestTimeouts
{
    /// <summary>How long a test waits for something that should happen at once: 15 s times the factor.</summary>
    public static TimeSpan Default => TestKitSettings.Dilated(TimeSpan.FromSeconds(15));

    /// <summary>How long a test that moves a lot of data may take before it counts as hung: 30 s times the factor.</summary>
    public static TimeSpan Long => TestKitSettings.Dilated(TimeSpan.FromSeconds(30));

    public static TimeSpan Scaled(TimeSpan timeout) => TestKitSettings.Dilated(timeout);

    public static Task WithTimeout(this Task task) => task.WaitAsync(Default);

    public static Task<T> WithTimeout<T>(this Task<T> task) => task.WaitAsync(Default);

    public static Task<T> WithTimeout<T>(this ValueTask<T> task) => task.AsTask().WaitAsync(Default);

    public static Task WithTimeout(this ValueTask task) => task.AsTask().WaitAsync(Default);
}
