using System.Diagnostics.Metrics;
using MeshActors.Actors;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MeshActors.Hosting;

/// <summary>Adds a MeshActors node to an application's host.</summary>
public static class MeshServiceCollectionExtensions
{
    /// <summary>
    /// Adds a mesh node that starts and stops with the host, configured from section <c>Mesh</c> and then by
    /// <paramref name="configure"/> (<c>options =&gt; options with { NodeName = "pricing" }</c>); validated when the
    /// host starts. Registers <see cref="MeshNode"/>, <see cref="IMesh"/>, the node's <see cref="ActorSystem"/>, the
    /// <see cref="ActorRegistry"/> and <see cref="IRequiredActor{TKey}"/>. Calling it again adds another configuration step to the same node.
    /// </summary>
    public static MeshActorsBuilder AddMeshActors(this IServiceCollection services, Func<MeshOptions, MeshOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (configure is not null)
            services.AddSingleton(new MeshOptionsConfiguration(configure));
        if (services.Any(service => service.ServiceType == typeof(MeshNode)))
            return new MeshActorsBuilder(services);

        services.AddOptions<MeshOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MeshOptions>, MeshOptionsValidator>());
        services.AddSingleton<IOptionsFactory<MeshOptions>, MeshOptionsFactory>();
        services.AddSingleton(provider =>
        {
            var options = provider.GetRequiredService<IOptions<MeshOptions>>().Value;
            return new MeshNode(options with
            {
                LoggerFactory = options.LoggerFactory ?? provider.GetService<ILoggerFactory>(),
                MeterFactory = options.MeterFactory ?? provider.GetService<IMeterFactory>(),
            });
        });
        services.AddSingleton<IMesh>(provider => provider.GetRequiredService<MeshNode>());
        services.AddSingleton(provider => provider.GetRequiredService<MeshNode>().System);
        services.AddSingleton<ActorRegistry>();
        services.AddSingleton(typeof(IRequiredActor<>), typeof(RequiredActor<>));
        services.AddHostedService<MeshHostedService>();
        return new MeshActorsBuilder(services);
    }
}
