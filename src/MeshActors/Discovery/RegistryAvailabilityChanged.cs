namespace MeshActors.Discovery;

/// <summary>
/// Published on the EventStream by a node's <see cref="RegistryActor"/> when its registry calls start failing, or its
/// connection is lost (<see cref="Available"/> false, with the reason), and when a round of calls succeeds: the first
/// one, and the first after a failure, each after the membership events of its listing.
/// </summary>
public sealed record RegistryAvailabilityChanged(string NodeId, string Registry, bool Available, string? Reason);
