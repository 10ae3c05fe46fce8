namespace MeshActors.Tests.Peers;

/// <summary>
/// The peer specifications run alone: they move millions of messages and time liveness in seconds over real sockets,
/// and on a 2-core machine other suites running beside them would make those timings measure the machine instead.
/// </summary>
[CollectionDefinition(nameof(PeersCollection), DisableParallelization = true)]
public sealed class PeersCollection;
