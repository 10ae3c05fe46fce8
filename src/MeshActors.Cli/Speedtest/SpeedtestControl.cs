namespace MeshActors.Cli.Speedtest;

/// <summary>The control service through which a speed-test sender starts a run on the receiver and collects its report.</summary>
/// <remarks>Counting happens at the receiver: the sender's own count says nothing about what arrived.</remarks>
internal static class SpeedtestControl
{
    /// <summary>The receiver's service that starts a run on <paramref name="topic"/>; one receiver per topic.</summary>
    public static string StartService(string topic) => $"speedtest.{topic}.start";

    /// <summary>The receiver's service that ends a run on <paramref name="topic"/> and answers with its report.</summary>
    public static string StopService(string topic) => $"speedtest.{topic}.stop";
}

/// <summary>Sender to receiver: forget earlier runs and count messages of run <paramref name="Run"/>.</summary>
internal sealed record SpeedtestStart(int Run, int MessageSize);

/// <summary>Receiver to sender: ready to count.</summary>
internal sealed record SpeedtestReady(string Receiver);

/// <summary>Sender to receiver: <paramref name="Sent"/> measured messages are on their way; report once they have arrived (or stopped arriving).</summary>
internal sealed record SpeedtestStop(int Run, long Sent);

/// <summary>
/// What the receiver counted in the measured phase, from the first measured message's send to the last one's arrival:
/// every message counted falls inside it (between arrivals alone, N messages would span N-1 gaps, and one none).
/// </summary>
internal sealed record SpeedtestReport(long Received, long Bytes, long ElapsedMicroseconds, long P50Microseconds, long P99Microseconds)
{
    public double Seconds => ElapsedMicroseconds / 1e6;

    public long MessagesPerSecond => Seconds > 0 ? (long)(Received / Seconds) : 0;

    /// <summary>Payload megabytes (10^6 bytes) per second.</summary>
    public long MegabytesPerSecond => Seconds > 0 ? (long)(Bytes / Seconds / 1e6) : 0;

    /// <summary>The line the issue specifies as the sender's last: <c>mps=N mbps=N p50_us=N p99_us=N</c>.</summary>
    public string ResultLine => $"mps={MessagesPerSecond} mbps={MegabytesPerSecond} p50_us={P50Microseconds} p99_us={P99Microseconds}";
}
