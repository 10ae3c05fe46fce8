namespace MeshActors.Tests.Protocol;

/// <summary>Generous waits for the pipe tests, scaled by MESHACTORS_TEST_TIMEFACTOR on slow machines.</summary>
internal static class TestTimeouts
{
    private static readonly double Factor =
        double.TryParse(Environment.GetEnvironmentVariable("MESHACTORS_TEST_TIMEFACTOR"), System.Globalization.CultureInfo.InvariantCulture, out var factor) && factor > 0
            ? factor
            : 1;

    /// <summary>How long a pipe test may take before it counts as hung: 30 s times the factor.</summary>
    public static TimeSpan Long => TimeSpan.FromSeconds(30 * Factor);
}
