namespace MeshActors.Discovery;

/// <summary>The <see cref="RegistryActor"/>'s answer to <see cref="LeaveMesh"/>.</summary>
public sealed class LeftMesh
{
    /// <summary>The only instance.</summary>
    public static LeftMesh Instance { get; } = new();

    private LeftMesh()
    {
    }
}
