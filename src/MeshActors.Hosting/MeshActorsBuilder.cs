using MeshActors.Actors;
using Microsoft.Extensions.DependencyInjection;

namespace MeshActors.Hosting;

/// <summary>What <see cref="MeshServiceCollectionExtensions.AddMeshActors(IServiceCollection, Func{MeshOptions, MeshOptions}?)"/> returns, to add the application's own actors.</summary>
public sealed class MeshActorsBuilder
{
    internal MeshActorsBuilder(IServiceCollection services) => Services = services;

    /// <summary>The application's services.</summary>
    public IServiceCollection Services { get; }

    /// <summary>
    /// Runs <paramref name="setup"/> once the node has started, before the host's later hosted services start: the place to
    /// create the application's actors and register them (<c>registry.Register&lt;MyKey&gt;(system.ActorOf(...))</c>).
    /// </summary>
    public MeshActorsBuilder WithActors(Action<ActorSystem, ActorRegistry, IMesh> setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        Services.AddSingleton(new MeshActorsSetup(setup));
        return this;
    }
}

/// <summary>One <see cref="MeshActorsBuilder.WithActors"/> callback.</summary>
internal sealed record MeshActorsSetup(Action<ActorSystem, ActorRegistry, IMesh> Run);

/// <summary>One <c>AddMeshActors</c> configuration callback, applied after the <c>Mesh</c> configuration section.</summary>
internal sealed record MeshOptionsConfiguration(Func<MeshOptions, MeshOptions> Configure);
