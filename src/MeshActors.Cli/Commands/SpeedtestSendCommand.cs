using System.CommandLine;
using MeshActors.Cli.Speedtest;
using MeshActors.Messaging;
using MeshActors.Protocol;
using Spectre.Console;

namespace MeshActors.Cli.Commands;

/// <summary>
/// <c>mesh speedtest send</c>: warms up, publishes for S seconds, then asks the receiver what arrived; the last line is
/// exactly <c>mps=N mbps=N p50_us=N p99_us=N</c>, counted at the receiver, with one-way latencies.
/// </summary>
internal static class SpeedtestSendCommand
{
    /// <summary>How long the sender waits for the receiver's report: it waits for stragglers itself, so this only guards against a receiver that died.</summary>
    private static readonly TimeSpan ReportTimeout = TimeSpan.FromSeconds(60);

    public static Command Create()
    {
        var topic = new Option<string>("--topic", "-t") { Description = "Topic to send on.", DefaultValueFactory = _ => "speedtest" };
        var size = new Option<int>("--message-size", "-s") { Description = $"Bytes per message (at least {SpeedtestPayload.HeaderSize}), sent as a binary attachment.", DefaultValueFactory = _ => 100 };
        var seconds = new Option<double>("--seconds") { Description = "Seconds of measured sending.", DefaultValueFactory = _ => 5.0 }.PositiveSeconds();
        var warmup = new Option<double>("--warmup") { Description = "Seconds of warm-up before measuring (JIT, connection windows).", DefaultValueFactory = _ => 1.0 }.Seconds();
        var wait = new Option<double>("--wait", "-w") { Description = "Seconds to wait for a receiver.", DefaultValueFactory = _ => 10.0 }.Seconds();
        var command = new Command("send", "Send a speed test to a receiver and print its measurements.") { topic, size, seconds, warmup, wait };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var name = parseResult.GetRequiredValue(topic);
            var messageSize = parseResult.GetValue(size);
            if (messageSize < SpeedtestPayload.HeaderSize)
                throw new CliException($"--message-size must be at least {SpeedtestPayload.HeaderSize} bytes (the timestamp header), not {messageSize}.");
            // A larger attachment never fits in a frame: the node would drop every message, with a warning each.
            if (messageSize > ProtocolOptions.DefaultMaxFrameSize)
                throw new CliException($"--message-size must be at most {ProtocolOptions.DefaultMaxFrameSize} bytes (the largest frame), not {messageSize}.");
            var waitFor = TimeSpan.FromSeconds(parseResult.GetValue(wait));

            await using var session = await MeshSession.JoinAsync(parseResult, MeshSession.ToolName("speedtest-send"), cancellationToken);
            var mesh = session.Mesh;
            await mesh.WaitForSubscriberAsync(name, waitFor, cancellationToken);
            var run = Random.Shared.Next(1, int.MaxValue);
            var ready = await mesh.RequestAsync<SpeedtestStart, SpeedtestReady>(
                SpeedtestControl.StartService(name), new SpeedtestStart(run, messageSize), new RequestOptions { WaitForProvider = waitFor }, cancellationToken);
            Terminal.Note($"run {run}: {messageSize} B messages on topic '{name}' to {ready.Receiver}{Direction(mesh, ready.Receiver)}");

            var sender = new SpeedtestSender(mesh, name, messageSize, run);
            var sent = await SendWithProgressAsync(
                sender, TimeSpan.FromSeconds(parseResult.GetValue(warmup)), TimeSpan.FromSeconds(parseResult.GetValue(seconds)), cancellationToken);
            var report = await mesh.RequestAsync<SpeedtestStop, SpeedtestReport>(
                SpeedtestControl.StopService(name), new SpeedtestStop(run, sent), new RequestOptions { Timeout = ReportTimeout }, cancellationToken);

            Terminal.Line(
                $"sent [bold]{sent:N0}[/], received [bold]{report.Received:N0}[/] ({sent - report.Received:N0} lost) in {report.Seconds:0.00} s",
                $"sent={sent} received={report.Received} lost={sent - report.Received} seconds={report.Seconds:0.000}");
            // Figures of nothing (mps=0) would read as a measurement; a receiver that got nothing is a failed run.
            if (report.Received == 0)
                throw new CliException($"the receiver got none of the {sent} messages sent.");
            Terminal.Line(report.ResultLine);
            return ExitCodes.Success;
        });
        return command;
    }

    // The two directions of a channel differ in speed (docs/architecture.md, Measured): say which one this run measures.
    private static string Direction(IMesh mesh, string receiver) =>
        (mesh as MeshNode)?.DescribePeers().FirstOrDefault(peer => peer.Name == receiver) switch
        {
            { Outbound: true } => ", on a channel this node dialed (HTTP/2 request body)",
            { Outbound: false } => ", on a channel the receiver dialed (HTTP/2 response body)",
            null => "",
        };

    private static async Task<long> SendWithProgressAsync(SpeedtestSender sender, TimeSpan warmup, TimeSpan measure, CancellationToken cancellationToken)
    {
        // On a thread of its own: when the node takes every message synchronously, the loop never yields.
        var sending = Task.Run(() => sender.RunAsync(warmup, measure, cancellationToken), cancellationToken);
        // The progress delays ignore Ctrl+C: a cancelled delay completes at once, so the loops would spin (and flood a
        // redirected stdout) until the sender, which does stop on Ctrl+C, has ended.
        if (!Terminal.IsInteractive)
        {
            while (await Task.WhenAny(sending, Task.Delay(TimeSpan.FromSeconds(1))) != sending)
                Console.Out.WriteLine($"{(sender.Measuring ? "sending" : "warm-up")} t={sender.PhaseElapsed.TotalSeconds:0.0}s sent={sender.Sent}");
            return await sending;
        }

        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new SpinnerColumn())
            .StartAsync(async progress =>
            {
                var warm = progress.AddTask("warm-up", maxValue: warmup.TotalSeconds);
                var main = progress.AddTask("sending", autoStart: false, maxValue: measure.TotalSeconds);
                while (await Task.WhenAny(sending, Task.Delay(100)) != sending)
                {
                    var (task, other) = sender.Measuring ? (main, warm) : (warm, main);
                    if (sender.Measuring)
                        other.Value = other.MaxValue;
                    task.StartTask();
                    task.Value = Math.Min(task.MaxValue, sender.PhaseElapsed.TotalSeconds);
                    task.Description = $"{(sender.Measuring ? "sending" : "warm-up")} {sender.Sent,12:N0} msgs";
                }
                warm.Value = warm.MaxValue;
                main.Value = main.MaxValue;
            });
        return await sending;
    }
}
