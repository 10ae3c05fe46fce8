namespace MeshActors.Discovery;

/// <summary>Asks the <see cref="RegistryActor"/> for the <see cref="CurrentMembers"/>.</summary>
public sealed class GetMembers
{
    /// <summary>The only instance.</summary>
    public static GetMembers Instance { get; } = new();

    private GetMembers()
    {
    }
}
