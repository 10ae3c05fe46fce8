namespace MeshActors.Discovery;

/// <summary>
/// Tells the <see cref="RegistryActor"/> this node's new registration (e.g. its topics or services changed); it
/// re-registers at once, so other nodes see a <see cref="MemberUpdated"/>. The id and the name must stay the same (the
/// name is part of the registration's key); an update that changes them or cannot be registered is answered with a
/// <c>Status.Failure</c> and the old registration stays.
/// </summary>
public sealed record UpdateSelf(MeshMember Self);
