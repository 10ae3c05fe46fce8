using System.Globalization;

namespace MeshActors.TestKit;

/// <summary>The TestKit's defaults, every duration scaled by <see cref="TimeFactor"/> for slow machines.</summary>
public static class TestKitSettings
{
    /// <summary>The environment variable holding the time factor (a positive number, e.g. "3" on a slow CI machine).</summary>
    public const string TimeFactorVariable = "MESHACTORS_TEST_TIMEFACTOR";

    /// <summary>Multiplies every TestKit duration; read from <see cref="TimeFactorVariable"/>. Default: 1.</summary>
    public static double TimeFactor { get; } = ReadTimeFactor();

    /// <summary>How long an expectation waits when not told otherwise. Default: 3 s (Akka.NET's) times the factor.</summary>
    public static TimeSpan DefaultTimeout { get; } = Dilated(TimeSpan.FromSeconds(3));

    /// <summary>
    /// How long <c>ExpectNoMsg()</c> listens when not told otherwise. Default: 250 ms times the factor (Akka.NET waits
    /// the full 3 s, which makes suites slow); pass a duration where it matters.
    /// </summary>
    public static TimeSpan DefaultNoMessageWait { get; } = Dilated(TimeSpan.FromMilliseconds(250));

    /// <summary>How long a <see cref="TestKit"/> waits for its system to terminate when disposed before failing the test. Default: 10 s times the factor.</summary>
    public static TimeSpan ShutdownTimeout { get; } = Dilated(TimeSpan.FromSeconds(10));

    /// <summary>How often <c>AwaitCondition</c> and <c>AwaitAssert</c> look again. Default: 10 ms (not dilated: it is a cost, not a deadline).</summary>
    public static TimeSpan DefaultPollInterval { get; } = TimeSpan.FromMilliseconds(10);

    /// <summary><paramref name="duration"/> times <see cref="TimeFactor"/> (infinite stays infinite: every TestKit wait then waits without limit).</summary>
    public static TimeSpan Dilated(TimeSpan duration) =>
        duration == Timeout.InfiniteTimeSpan ? duration : TimeSpan.FromTicks((long)(duration.Ticks * TimeFactor));

    private static double ReadTimeFactor()
    {
        var text = Environment.GetEnvironmentVariable(TimeFactorVariable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return 1.0;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var factor) && factor > 0
            ? factor
            : throw new InvalidOperationException($"{TimeFactorVariable}=\"{text}\" is not a positive number.");
    }
}
