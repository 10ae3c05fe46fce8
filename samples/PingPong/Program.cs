// Two processes on one mesh. In one terminal:   dotnet run --project samples/PingPong -- ponger
// and in another:                               dotnet run --project samples/PingPong -- pinger [count]
// The pinger publishes on topic "ping"; the ponger answers each ping on topic "pong"; the pinger prints the round
// trips. Both find each other in the registry named by MESH_DISCOVERY (local by default, or redis://host:port).
using System.Diagnostics;
using System.Runtime.InteropServices;
using MeshActors;
using MeshActors.Discovery;

var role = args.FirstOrDefault();
var count = 10;
if (role is not ("pinger" or "ponger")
    || (args.Length > 1 && (role != "pinger" || !int.TryParse(args[1], System.Globalization.CultureInfo.InvariantCulture, out count) || count < 1)))
{
    Console.Error.WriteLine("usage: PingPong ponger | pinger [count]   (count: a whole number from 1, default 10)");
    return 2;
}

using var stop = new CancellationTokenSource();
using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
var options = new MeshOptions
{
    NodeName = role,
    Discovery = new DiscoveryOptions { Registry = Environment.GetEnvironmentVariable("MESH_DISCOVERY") ?? "local" },
};
await using var node = await MeshNode.StartAsync(options, stop.Token);
Console.WriteLine($"{role} {node.Self.Id} listening on {node.Self.Address}");

if (role == "ponger")
{
    using var pings = node.Subscribe<Ping>("ping", async (ping, context) =>
    {
        Console.WriteLine($"ping #{ping.Sequence} from {context.SenderName}");
        await node.PublishAsync("pong", new Pong(ping.Sequence, ping.SentAt));
    });
    await pings.Ready.WaitAsync(stop.Token);
    Console.WriteLine("waiting for pings; Ctrl+C stops");
    await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
    Console.WriteLine("ponger leaves the mesh");
    return 0;
}

var answered = 0;
var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
using var pongs = node.Subscribe<Pong>("pong", (pong, context) =>
{
    var rtt = Stopwatch.GetElapsedTime(pong.SentAt);
    Console.WriteLine($"pong #{pong.Sequence} from {context.SenderName}: {rtt.TotalMilliseconds:0.000} ms");
    if (Interlocked.Increment(ref answered) == count)
        done.TrySetResult();
    return ValueTask.CompletedTask;
});

Console.WriteLine("waiting for a ponger");
try
{
    await pongs.Ready.WaitAsync(stop.Token); // listening for pongs before the first ping goes out
    await node.WaitForSubscriberAsync("ping", TimeSpan.FromSeconds(30), stop.Token);
    for (var i = 1; i <= count; i++)
    {
        await node.PublishAsync("ping", new Ping(i, Stopwatch.GetTimestamp()), stop.Token);
        await Task.Delay(200, stop.Token);
    }

    await done.Task.WaitAsync(TimeSpan.FromSeconds(10), stop.Token);
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Console.WriteLine($"stopped: {answered} of {count} pings answered; pinger leaves the mesh");
    return 130;
}
catch (TimeoutException e)
{
    Console.Error.WriteLine($"pinger: {e.Message} ({answered} of {count} pings answered)");
    return 1;
}

Console.WriteLine($"{answered} of {count} pings answered");
return 0;

// Ctrl+C or SIGTERM: leave the mesh cleanly instead of dying.
void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}

internal sealed record Ping(int Sequence, long SentAt);

internal sealed record Pong(int Sequence, long SentAt);
