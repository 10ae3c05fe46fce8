namespace MeshActors.Tests.Discovery;

/// <summary>Waits on conditions with deadlines (never a bare sleep), scaled by MESHACTORS_TEST_TIMEFACTOR for slow machines.</summary>
internal static class Eventually
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(25);

    public static TimeSpan Scaled(TimeSpan timeout) => TestTimeouts.Scaled(timeout);

    /// <summary>Polls <paramref name="probe"/> until its value satisfies <paramref name="condition"/>; fails with <paramref name="what"/> and the last value at the deadline.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + Scaled(timeout);
        while (true)
        {
            var value = await probe();
            if (condition(value))
                return value;
            if (DateTime.UtcNow >= deadline)
                throw new TimeoutException($"Timed out after {Scaled(timeout)} waiting until {what}; last value: {Describe(value)}");
            await Task.Delay(PollInterval);
        }
    }

    private static string Describe(object? value) =>
        value is System.Collections.IEnumerable items and not string ? $"[{string.Join(", ", items.Cast<object?>())}]" : $"{value}";
}
