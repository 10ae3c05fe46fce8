namespace MeshActors.Hosting;

/// <summary>The key of the node's topic router (<see cref="IMesh.TopicRouter"/>) in the <see cref="ActorRegistry"/>.</summary>
public sealed class TopicRouterKey
{
    private TopicRouterKey()
    {
    }
}

/// <summary>The key of the node's services actor (<see cref="IMesh.Services"/>) in the <see cref="ActorRegistry"/>.</summary>
public sealed class ServicesKey
{
    private ServicesKey()
    {
    }
}

/// <summary>The key of the node's peer manager (<see cref="MeshNode.Peers"/>) in the <see cref="ActorRegistry"/>.</summary>
public sealed class PeerManagerKey
{
    private PeerManagerKey()
    {
    }
}

/// <summary>The key of the node's registry actor (<see cref="MeshNode.Registry"/>) in the <see cref="ActorRegistry"/>.</summary>
public sealed class RegistryActorKey
{
    private RegistryActorKey()
    {
    }
}
