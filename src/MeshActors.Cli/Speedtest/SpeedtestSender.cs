using System.Diagnostics;

namespace MeshActors.Cli.Speedtest;

/// <summary>Publishes speed-test messages as fast as the node takes them: a warm-up phase, then the measured phase.</summary>
internal sealed class SpeedtestSender(IMesh mesh, string topic, int messageSize, int run)
{
    private long _sent;
    private long _phaseStart;
    private volatile bool _measuring;

    /// <summary>False during the warm-up, true during the measured phase.</summary>
    public bool Measuring => _measuring;

    /// <summary>Messages published so far in the current phase.</summary>
    public long Sent => Volatile.Read(ref _sent);

    public TimeSpan PhaseElapsed => Stopwatch.GetElapsedTime(Volatile.Read(ref _phaseStart));

    /// <summary>Runs both phases; returns how many messages the measured phase published.</summary>
    public async Task<long> RunAsync(TimeSpan warmup, TimeSpan measure, CancellationToken cancellationToken)
    {
        await SendForAsync(warmup, cancellationToken).ConfigureAwait(false);
        _measuring = true;
        return await SendForAsync(measure, cancellationToken).ConfigureAwait(false);
    }

    private async Task<long> SendForAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        Volatile.Write(ref _sent, 0);
        Volatile.Write(ref _phaseStart, start);
        long sent = 0;
        for (var now = start; now < end; now = Stopwatch.GetTimestamp())
        {
            // Publishing to a topic nobody subscribes to any more (the receiver left) completes at once, token or not.
            cancellationToken.ThrowIfCancellationRequested();
            // A fresh array per message: the node may still hold the previous one in its send queue.
            ReadOnlyMemory<byte> payload = SpeedtestPayload.Create(messageSize, now, run, _measuring);
            await mesh.PublishAsync(topic, payload, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _sent, ++sent);
        }
        return sent;
    }
}
