using System.CommandLine;
using System.Globalization;

namespace MeshActors.Cli.Commands;

/// <summary><c>mesh ping &lt;node&gt;</c>: round-trip times to a node, printed like ping(8) prints them.</summary>
internal static class PingCommand
{
    public static Command Create()
    {
        var target = new Argument<string>("node") { Description = "The node's name, id, or host:port." };
        var count = new Option<int>("--count", "-c") { Description = "Pings to send; 0 pings until Ctrl+C.", DefaultValueFactory = _ => 4 }.NotNegative();
        var interval = new Option<double>("--interval", "-i") { Description = "Seconds between pings.", DefaultValueFactory = _ => 1.0 }.Seconds();
        var timeout = new Option<double>("--timeout", "-W") { Description = "Seconds to wait for each reply.", DefaultValueFactory = _ => 2.0 }.PositiveSeconds();
        var wait = new Option<double>("--wait") { Description = "Seconds to wait for the node to show up in the registry.", DefaultValueFactory = _ => 5.0 }.Seconds();
        var command = new Command("ping", "Measure round trips to a node.") { target, count, interval, timeout, wait };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            await using var session = await MeshSession.JoinAsync(parseResult, MeshSession.ToolName("ping"), cancellationToken);
            return await PingAsync(
                session.Mesh,
                parseResult.GetRequiredValue(target),
                parseResult.GetValue(count),
                TimeSpan.FromSeconds(parseResult.GetValue(interval)),
                TimeSpan.FromSeconds(parseResult.GetValue(timeout)),
                TimeSpan.FromSeconds(parseResult.GetValue(wait)),
                cancellationToken);
        });
        return command;
    }

    private static async Task<int> PingAsync(IMesh mesh, string target, int count, TimeSpan interval, TimeSpan timeout, TimeSpan wait, CancellationToken cancellationToken)
    {
        // Not registered (yet): it may register within --wait, and a connected peer answers whether registered or not.
        var member = await MemberLookup.WaitForAsync(mesh, target, wait, cancellationToken);
        Terminal.Line(
            member is null ? $"PING [bold]{Terminal.Escape(target)}[/]" : $"PING [bold]{Terminal.Escape(member.Name)}[/] [grey]{member.Id}[/] at {Terminal.Escape(member.Address)}",
            member is null ? $"PING {target}" : $"PING {member.Name} id={member.Id} address={member.Address}");

        // An unnumbered first round trip waits for the channel, so that the numbered ones measure the mesh, not its dialling.
        await MemberLookup.ConnectAsync(mesh, member?.Id ?? target, wait, cancellationToken);
        var times = new List<double>();
        var sent = 0;
        for (var seq = 1; count == 0 || seq <= count; seq++)
        {
            if (seq > 1 && !await DelayAsync(interval, cancellationToken))
                break;
            sent++;
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attempt.CancelAfter(timeout);
            try
            {
                var rtt = (await mesh.PingAsync(member?.Id ?? target, attempt.Token)).TotalMilliseconds;
                times.Add(rtt);
                Terminal.Line($"reply from {Terminal.Escape(member?.Name ?? target)}: seq={seq} time=[bold]{Ms(rtt)}[/] ms", $"reply from {member?.Name ?? target}: seq={seq} time={Ms(rtt)} ms");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                sent--;
                break;
            }
            catch (OperationCanceledException)
            {
                Terminal.Line($"[yellow]no reply: seq={seq} (timeout {timeout.TotalSeconds:0.###} s)[/]", $"no reply: seq={seq} (timeout)");
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Terminal.Line($"[red]no reply: seq={seq} ({Terminal.Escape(e.Message)})[/]", $"no reply: seq={seq} ({e.Message.ReplaceLineEndings(" ")})");
            }
        }

        PrintSummary(member?.Name ?? target, sent, times);
        if (count > 0 && sent < count)
            cancellationToken.ThrowIfCancellationRequested(); // stopped before its count: 130, after the summary
        return times.Count > 0 ? ExitCodes.Success : ExitCodes.Failure;
    }

    private static void PrintSummary(string target, int sent, List<double> times)
    {
        var loss = sent == 0 ? 0 : 100.0 * (sent - times.Count) / sent;
        Terminal.Line($"--- {target} ping statistics ---");
        Terminal.Line($"{sent} sent, {times.Count} received, {loss:0.#}% loss");
        if (times.Count == 0)
            return;
        var average = times.Average();
        var deviation = Math.Sqrt(times.Average(t => (t - average) * (t - average)));
        Terminal.Line($"rtt min/avg/max/mdev = {Ms(times.Min())}/{Ms(average)}/{Ms(times.Max())}/{Ms(deviation)} ms");
    }

    /// <summary>Waits between pings; false when Ctrl+C ends the run, which still prints the summary.</summary>
    private static async Task<bool> DelayAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(interval, cancellationToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static string Ms(double milliseconds) => milliseconds.ToString("0.000", CultureInfo.InvariantCulture);
}
