using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MeshActors.Hosting;

/// <summary>
/// Starts the node when the host starts, registers its actors, runs the application's actor setups; stops the node
/// gracefully when the host stops, and the host when the node's actor system ends on its own.
/// </summary>
internal sealed partial class MeshHostedService(
    MeshNode node, ActorRegistry registry, IEnumerable<MeshActorsSetup> setups, IHostApplicationLifetime lifetime, ILogger<MeshHostedService> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await node.StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            registry.Register<TopicRouterKey>(node.TopicRouter);
            registry.Register<ServicesKey>(node.Services);
            registry.Register<PeerManagerKey>(node.Peers);
            registry.Register<RegistryActorKey>(node.Registry);
            foreach (var setup in setups)
                setup.Run(node.System, registry, node);
        }
        catch
        {
            // The host does not stop the services of a start that failed: a node left running would stay in the mesh,
            // serving without the application's actors, until the host is disposed.
            await node.StopAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        // A node whose actor system ended on its own (an actor called Terminate) serves nothing more: the host stops
        // too, as Akka.Hosting's does, rather than run on without its node.
        _ = node.System.WhenTerminated.ContinueWith(
            _ =>
            {
                if (lifetime.ApplicationStopping.IsCancellationRequested || node.IsStopping)
                    return;
                SystemTerminated(log, node.Id);
                lifetime.StopApplication();
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await node.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host's shutdown timeout cut the graceful stop short: the node stopped all the same and logged what it
            // skipped. A host whose stop ran out of time has still stopped; RunAsync must not throw for it.
        }
    }

    [LoggerMessage(9001, LogLevel.Error, "The actor system of mesh node {NodeId} terminated while the host was running; stopping the host")]
    private static partial void SystemTerminated(ILogger logger, string nodeId);
}
