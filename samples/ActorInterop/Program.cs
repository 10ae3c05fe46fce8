// An application's own actor on a mesh node: PortfolioActor subscribes to a topic and calls a service by messaging
// the node's actors (IMesh.TopicRouter, IMesh.Services), with no callbacks and no awaits in the actor.
// Two nodes in one process, over real HTTP/2 on loopback, with a temporary local registry.
// Run it with: dotnet run --project samples/ActorInterop
using System.Runtime.InteropServices;
using MeshActors;
using MeshActors.Actors;
using MeshActors.Discovery;

const int Prices = 3;
using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
// Ctrl+C or SIGTERM ends the run through the same token, so that the nodes leave and the registry is removed.
using var interrupted = new CancellationTokenSource();
using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
using var ends = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, interrupted.Token);
var registry = Directory.CreateTempSubdirectory("meshactors-actorinterop-");
var discovery = new DiscoveryOptions { Registry = "local:" + registry.FullName };

try
{
    await using var pricing = await MeshNode.StartAsync(new MeshOptions { NodeName = "pricing", Discovery = discovery }, ends.Token);
    await using var app = await MeshNode.StartAsync(new MeshOptions { NodeName = "app", Discovery = discovery }, ends.Token);
    using var quotes = pricing.AddService<QuoteRequest, Price>("quote", (request, _, _) => request.Symbol == "ABC"
        ? ValueTask.FromResult(new Price("ABC", 101.7m))
        : throw new KeyNotFoundException($"no quote for {request.Symbol}"));

    var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    app.System.ActorOf(Props.Create(() => new PortfolioActor(app, Prices, received)), "portfolio");

    // The pricing node publishes once it knows the portfolio listens.
    await pricing.WaitForSubscriberAsync("prices", TimeSpan.FromSeconds(10), ends.Token);
    foreach (var price in new[] { new Price("ABC", 101.5m), new Price("XYZ", 42.0m), new Price("ABC", 101.7m) })
        await pricing.PublishAsync("prices", price, ends.Token);
    await received.Task.WaitAsync(ends.Token);
    Console.WriteLine("done");
}
catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
{
    Console.Error.WriteLine("actor interop: interrupted");
    return 130;
}
catch (OperationCanceledException) when (deadline.IsCancellationRequested)
{
    Console.Error.WriteLine("actor interop: did not finish within 30 s");
    return 1;
}
catch (Exception e)
{
    Console.Error.WriteLine($"actor interop: {e.GetType().Name}: {e.Message}");
    return 1;
}
finally
{
    registry.Delete(recursive: true);
}
return 0;

void Interrupt(PosixSignalContext context)
{
    context.Cancel = true;
    interrupted.Cancel();
}
