// An application's own actor on a mesh node: PortfolioActor subscribes to a topic and calls a service by messaging
// the node's actors (IMesh.TopicRouter, IMesh.Services), with no callbacks and no awaits in the actor.
// Two nodes in one process, over real HTTP/2 on loopback, with a temporary local registry.
// Run it with: dotnet run --project samples/ActorInterop
using MeshActors;
using MeshActors.Actors;
using MeshActors.Discovery;

const int Prices = 3;
using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
var registry = Directory.CreateTempSubdirectory("meshactors-actorinterop-");
var discovery = new DiscoveryOptions { Registry = "local:" + registry.FullName };

try
{
    await using var pricing = await MeshNode.StartAsync(new MeshOptions { NodeName = "pricing", Discovery = discovery }, deadline.Token);
    await using var app = await MeshNode.StartAsync(new MeshOptions { NodeName = "app", Discovery = discovery }, deadline.Token);
    using var quotes = pricing.AddService<QuoteRequest, Price>("quote", (request, _, _) => request.Symbol == "ABC"
        ? ValueTask.FromResult(new Price("ABC", 101.7m))
        : throw new KeyNotFoundException($"no quote for {request.Symbol}"));

    var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    app.System.ActorOf(Props.Create(() => new PortfolioActor(app, Prices, received)), "portfolio");

    // The pricing node publishes once it knows the portfolio listens.
    await pricing.WaitForSubscriberAsync("prices", TimeSpan.FromSeconds(10), deadline.Token);
    foreach (var price in new[] { new Price("ABC", 101.5m), new Price("XYZ", 42.0m), new Price("ABC", 101.7m) })
        await pricing.PublishAsync("prices", price, deadline.Token);
    await received.Task.WaitAsync(deadline.Token);
    Console.WriteLine("done");
}
catch (OperationCanceledException) when (deadline.IsCancellationRequested)
{
    Console.Error.WriteLine("actor interop: did not finish within 30 s");
    return 1;
}
finally
{
    registry.Delete(recursive: true);
}
return 0;
