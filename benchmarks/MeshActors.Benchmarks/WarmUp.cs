using System.Diagnostics;
using System.Globalization;
using System.Runtime;

namespace MeshActors.Benchmarks;

/// <summary>
/// Waits out a workload's warm-up: at least the time asked for, then until tiered compilation has gone quiet. On two
/// cores the tiering thread still took a fifth of the CPU ten seconds into the messaging benchmark when other machines
/// took a third of it (steal), so a fixed warm-up measured the JIT as often as the code.
/// </summary>
internal static class WarmUp
{
    // "Quiet": fewer methods than this compiled in the last second. A busy process keeps compiling a trickle
    // (lambdas of timers, rare paths) that costs nothing measurable.
    private const int QuietMethodsPerSecond = 10;
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    /// <summary>Returns once <paramref name="minimum"/> has passed and the JIT is quiet, or after a minute at most.</summary>
    public static async Task WaitAsync(string figure, TimeSpan minimum)
    {
        var clock = Stopwatch.StartNew();
        await Task.Delay(minimum);
        var compiled = JitInfo.GetCompiledMethodCount();
        long lastSecond;
        do
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            var now = JitInfo.GetCompiledMethodCount();
            (lastSecond, compiled) = (now - compiled, now);
        }
        while (lastSecond >= QuietMethodsPerSecond && clock.Elapsed < Limit);

        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"# {figure}: warmed up for {clock.Elapsed.TotalSeconds:0.0} s, {lastSecond} methods compiled in its last second"));
    }
}
