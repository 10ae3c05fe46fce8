using MeshActors.Discovery;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MeshActors.Hosting;

/// <summary>
/// The node's health: unhealthy (the registration's failure status) while it is not running (its actor system
/// terminated included), degraded while its
/// registry is not reachable, as for a moment after the start, or while the registry's calls fail (it serves the peers
/// it knows, but new nodes cannot find it), healthy otherwise.
/// </summary>
internal sealed class MeshHealthCheck(MeshNode node) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!node.IsStarted || node.RegistryConnection is not { } registry)
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, $"Mesh node {node.Id} is not running."));
        if (node.System.WhenTerminated.IsCompleted)
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, $"Mesh node {node.Id} is not running: its actor system terminated."));

        var data = new Dictionary<string, object>
        {
            ["node"] = node.Id,
            ["peers"] = node.DescribePeers().Count(peer => peer.IsConnected),
            ["members"] = node.Members.Count,
            ["registry"] = registry.Description,
        };
        // The connection alone does not tell: Redis may answer every call with an error (NOAUTH, READONLY, OOM), and
        // the local directory is always "connected". The registry actor reports whether its calls succeed.
        return Task.FromResult(
            registry.State == RegistryConnectionState.Disconnected
                ? HealthCheckResult.Degraded($"The registry ({registry.Description}) is not reachable (not yet, or no more): known peers are served, new nodes cannot find this one.", data: data)
            : node.RegistryFailure is { } failure
                ? HealthCheckResult.Degraded($"The registry ({registry.Description}) is failing ({failure}): known peers are served, new nodes cannot find this one.", data: data)
            : HealthCheckResult.Healthy($"Mesh node {node.Id} is running.", data));
    }
}
