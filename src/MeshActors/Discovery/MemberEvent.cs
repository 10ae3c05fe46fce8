namespace MeshActors.Discovery;

/// <summary>A change of mesh membership, published on the actor system's EventStream by the registry actor.</summary>
public abstract record MemberEvent(MeshMember Member);

/// <summary>A node joined the mesh.</summary>
public sealed record MemberUp(MeshMember Member) : MemberEvent(Member);

/// <summary>A node left: it deregistered, or its registration expired.</summary>
public sealed record MemberDown(MeshMember Member, MemberDownReason Reason) : MemberEvent(Member);

/// <summary>A node's registration changed (topics, services, tags, address).</summary>
public sealed record MemberUpdated(MeshMember Member) : MemberEvent(Member);

/// <summary>Why a member is down.</summary>
public enum MemberDownReason
{
    /// <summary>It deregistered on a graceful stop.</summary>
    Left,

    /// <summary>Its registration expired: it stopped heartbeating.</summary>
    Expired,
}
