namespace MeshActors.Discovery;

/// <summary>The result of listing a registry: the valid live members, and the entries skipped as garbage.</summary>
public sealed record RegistryListing(IReadOnlyList<MeshMember> Members, IReadOnlyList<SkippedEntry> Skipped);
