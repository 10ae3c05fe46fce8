namespace MeshActors.Discovery;

/// <summary>
/// Tells the <see cref="RegistryActor"/> to deregister this node at once and announce the leave; it answers
/// <see cref="LeftMesh"/> once done (or once it gave up: the registration then expires within the TTL), and from then
/// on only answers questions about the membership.
/// </summary>
public sealed class LeaveMesh
{
    /// <summary>The only instance.</summary>
    public static LeaveMesh Instance { get; } = new();

    private LeaveMesh()
    {
    }
}
