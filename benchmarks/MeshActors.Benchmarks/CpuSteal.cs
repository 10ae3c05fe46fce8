using System.Globalization;

namespace MeshActors.Benchmarks;

/// <summary>
/// The share of CPU time the hypervisor gave to other machines (Linux's "steal" in /proc/stat) over a span. On a
/// shared virtual machine it explains figures: the project's machine swung 2-3x within an hour, and in its slow hours
/// other machines took 30-50% of its CPU time.
/// </summary>
internal readonly record struct CpuSteal(long Steal, long Total)
{
    /// <summary>The counters now; zero where /proc/stat cannot be read.</summary>
    public static CpuSteal Sample()
    {
        try
        {
            // "cpu  user nice system idle iowait irq softirq steal guest guest_nice", in clock ticks, all cores.
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var ticks = new long[8];
            for (var i = 0; i < ticks.Length; i++)
            {
                if (i + 1 >= fields.Length || !long.TryParse(fields[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out ticks[i]))
                    return default;
            }

            return new CpuSteal(ticks[7], ticks.Sum());
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return default; // no /proc/stat (not Linux), or an empty one
        }
    }

    /// <summary>The percentage of CPU time stolen since <paramref name="start"/>, or null when unknown.</summary>
    public double? PercentSince(CpuSteal start) =>
        Total > start.Total ? 100.0 * (Steal - start.Steal) / (Total - start.Total) : null;
}
