using System.CommandLine;
using System.Diagnostics;
using MeshActors.Cli.Speedtest;
using MeshActors.Messaging;

namespace MeshActors.Cli.Commands;

/// <summary><c>mesh speedtest recv [--topic t]</c>: counts what arrives on a topic and reports each run to its sender.</summary>
internal static class SpeedtestRecvCommand
{
    /// <summary>How long the receiver waits for stragglers after the last message arrived before it reports the rest as lost.</summary>
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(2);

    public static Command Create()
    {
        var topic = new Option<string>("--topic", "-t") { Description = "Topic to receive on.", DefaultValueFactory = _ => "speedtest" };
        var runs = new Option<int>("--runs") { Description = "Exit after this many runs; 0 serves runs until Ctrl+C.", DefaultValueFactory = _ => 0 }.NotNegative();
        var command = new Command("recv", "Receive a speed test: count what arrives and report it to the sender.") { topic, runs };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var name = parseResult.GetRequiredValue(topic);
            var maxRuns = parseResult.GetValue(runs);
            var tally = new SpeedtestTally();
            var completedRuns = 0;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

            await using var session = await MeshSession.JoinAsync(parseResult, MeshSession.ToolName("speedtest-recv"), cancellationToken);
            var mesh = session.Mesh;
            using var messages = mesh.Subscribe<ReadOnlyMemory<byte>>(name, (payload, _) =>
            {
                tally.Record(payload.Span);
                return ValueTask.CompletedTask;
            });
            using var start = mesh.AddService<SpeedtestStart, SpeedtestReady>(SpeedtestControl.StartService(name), (request, context, _) =>
            {
                tally.Begin(request.Run);
                Terminal.Note($"run {request.Run} from {context.SenderName}: {request.MessageSize} B messages");
                return ValueTask.FromResult(new SpeedtestReady(mesh.Self.Name));
            });
            using var stop = mesh.AddService<SpeedtestStop, SpeedtestReport>(SpeedtestControl.StopService(name), async (request, _, ct) =>
            {
                // One run at a time: another sender's start replaced this one's, and its figures are not this one's.
                if (request.Run != tally.Run)
                    throw new InvalidOperationException($"run {request.Run} was replaced by run {tally.Run} of another sender: one receiver measures one sender at a time");
                var report = await CollectAsync(tally, request.Sent, ct);
                Terminal.Line(
                    $"run {request.Run}: received [bold]{report.Received:N0}[/] of {request.Sent:N0} in {report.Seconds:0.00} s: [bold]{report.MessagesPerSecond:N0}[/] msgs/s, [bold]{report.MegabytesPerSecond:N0}[/] MB/s, p50 {report.P50Microseconds} µs, p99 {report.P99Microseconds} µs",
                    $"run={request.Run} sent={request.Sent} received={report.Received} seconds={report.Seconds:0.000} {report.ResultLine}");
                if (Interlocked.Increment(ref completedRuns) == maxRuns)
                    done.TrySetResult();
                return report;
            });
            await Task.WhenAll(messages.Ready, start.Ready, stop.Ready);
            Terminal.Note($"waiting for speed-test senders on topic '{name}' (node {mesh.Self.Name} at {mesh.Self.Address})");
            await Task.WhenAny(done.Task, cancellationToken.WhenCancelled());
            if (maxRuns > 0 && !done.Task.IsCompleted)
                cancellationToken.ThrowIfCancellationRequested(); // stopped before its runs
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Waits until every measured message has arrived, or none has for <see cref="IdleTimeout"/> (the rest were dropped), then reports.</summary>
    private static async Task<SpeedtestReport> CollectAsync(SpeedtestTally tally, long sent, CancellationToken cancellationToken)
    {
        var idleSince = Stopwatch.GetTimestamp();
        var seen = tally.Received;
        while (seen < sent && Stopwatch.GetElapsedTime(idleSince) < IdleTimeout)
        {
            await Task.Delay(10, cancellationToken);
            if (tally.Received != seen)
                (seen, idleSince) = (tally.Received, Stopwatch.GetTimestamp());
        }
        return tally.Report();
    }
}
