namespace MeshActors.Discovery;

/// <summary>The live members of the mesh other than this node, as the <see cref="RegistryActor"/> knows them now.</summary>
public sealed record CurrentMembers(IReadOnlyList<MeshMember> Members);
