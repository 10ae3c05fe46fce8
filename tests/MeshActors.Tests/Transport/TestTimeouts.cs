using System.Globalization;

namespace MeshActors.Tests.Transport;

/// <summary>Generous deadlines for waits on conditions, scaled by MESHACTORS_TEST_TIMEFACTOR for slow machines.</summary>
internal static class TestTimeouts
{
    public static double Factor { get; } =
        double.TryParse(Environment.GetEnvironmentVariable("MESHACTORS_TEST_TIMEFACTOR"), NumberStyles.Float, CultureInfo.InvariantCulture, out var factor) && factor > 0
            ? factor
            : 1;

    /// <summary>How long a test waits for something that should happen at once.</summary>
    public static TimeSpan Default => Scaled(TimeSpan.FromSeconds(15));

    public static TimeSpan Scaled(TimeSpan timeout) => timeout * Factor;

    public static Task WithTimeout(this Task task) => task.WaitAsync(Default);

    public static Task<T> WithTimeout<T>(this Task<T> task) => task.WaitAsync(Default);

    public static Task<T> WithTimeout<T>(this ValueTask<T> task) => task.AsTask().WaitAsync(Default);

    public static Task WithTimeout(this ValueTask task) => task.AsTask().WaitAsync(Default);
}
