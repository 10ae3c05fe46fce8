using MeshActors.Actors;

namespace MeshActors.Hosting;

/// <summary>The actor registered under <typeparamref name="TKey"/> in the <see cref="ActorRegistry"/>, injected where it is needed (Akka.Hosting's <c>IRequiredActor&lt;T&gt;</c>).</summary>
public interface IRequiredActor<TKey>
{
    /// <summary>The actor; throws <see cref="KeyNotFoundException"/> while it is not registered yet.</summary>
    IActorRef ActorRef { get; }

    /// <summary>The actor, once it is registered.</summary>
    Task<IActorRef> GetAsync(CancellationToken cancellationToken = default);
}

/// <summary>Resolves <see cref="IRequiredActor{TKey}"/> from the <see cref="ActorRegistry"/>.</summary>
internal sealed class RequiredActor<TKey>(ActorRegistry registry) : IRequiredActor<TKey>
{
    public IActorRef ActorRef => registry.Get<TKey>();

    public Task<IActorRef> GetAsync(CancellationToken cancellationToken = default) => registry.GetAsync<TKey>(cancellationToken);
}
