namespace MeshActors.Discovery;

/// <summary>A registry entry that is not a valid registration: never returned as a member, never dialed.</summary>
/// <param name="Key">The Redis key or file path of the entry.</param>
/// <param name="Reason">Why it was skipped, e.g. "port 70000 is outside 1-65535".</param>
public sealed record SkippedEntry(string Key, string Reason);
