using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MeshActors.Hosting;

/// <summary>Adds the mesh node to the application's health checks.</summary>
public static class MeshHealthChecksBuilderExtensions
{
    /// <summary>
    /// Checks the node added by <c>AddMeshActors</c>: <paramref name="failureStatus"/> (unhealthy by default) while it
    /// is not running, degraded while its registry is unreachable or its registry calls fail, healthy otherwise; the result's data names the
    /// node, its connected peers, the members it knows and the registry.
    /// </summary>
    public static IHealthChecksBuilder AddMeshActors(
        this IHealthChecksBuilder builder, string name = "mesh", HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(name, provider => new MeshHealthCheck(provider.GetRequiredService<MeshNode>()), failureStatus, tags));
    }
}
