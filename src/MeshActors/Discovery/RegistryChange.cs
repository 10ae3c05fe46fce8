namespace MeshActors.Discovery;

/// <summary>A join or a graceful leave, as announced on a registry's change feed.</summary>
/// <param name="NodeId">The node the announcement is about.</param>
public abstract record RegistryChange(string NodeId);

/// <summary>A node registered, or changed its registration.</summary>
public sealed record MemberRegistered(MeshMember Member) : RegistryChange(Member.Id);

/// <summary>A node deregistered on a graceful stop.</summary>
public sealed record MemberDeregistered(string NodeId) : RegistryChange(NodeId);
