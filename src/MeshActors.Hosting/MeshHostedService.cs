using Microsoft.Extensions.Hosting;

namespace MeshActors.Hosting;

/// <summary>Starts the node when the host starts, registers its actors, runs the application's actor setups; stops the node gracefully when the host stops.</summary>
internal sealed class MeshHostedService(MeshNode node, ActorRegistry registry, IEnumerable<MeshActorsSetup> setups) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await node.StartAsync(cancellationToken).ConfigureAwait(false);
        registry.Register<TopicRouterKey>(node.TopicRouter);
        registry.Register<ServicesKey>(node.Services);
        registry.Register<PeerManagerKey>(node.Peers);
        registry.Register<RegistryActorKey>(node.Registry);
        foreach (var setup in setups)
            setup.Run(node.System, registry, node);
    }

    public Task StopAsync(CancellationToken cancellationToken) => node.StopAsync(cancellationToken);
}
