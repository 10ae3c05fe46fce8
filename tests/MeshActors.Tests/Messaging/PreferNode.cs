using MeshActors.Messaging;

namespace MeshActors.Tests.Messaging;

/// <summary>A load balancer for specs: the candidate named <paramref name="name"/> when there is one, else the first.</summary>
internal sealed class PreferNode(string name) : ILoadBalancer
{
    public int Select(CandidateGroup candidates)
    {
        for (var i = 0; i < candidates.Count; i++)
        {
            if (candidates[i].Name == name)
                return i;
        }

        return 0;
    }
}
