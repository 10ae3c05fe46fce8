namespace MeshActors.Messaging;

/// <summary>Picks which node gets a message of a topic group, or a request of a service; see <see cref="LoadBalancers"/> for the built-in ones.</summary>
/// <remarks>Called on the publishing or requesting thread, concurrently: implementations must be thread-safe and cheap.</remarks>
public interface ILoadBalancer
{
    /// <summary>The index in <paramref name="candidates"/> (never empty) of the node to use, or <see cref="LoadBalancers.All"/> to use every one (topics only).</summary>
    int Select(CandidateGroup candidates);
}
