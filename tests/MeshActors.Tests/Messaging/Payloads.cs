namespace MeshActors.Tests.Messaging;

/// <summary>A topic message of the specs.</summary>
public sealed record Price(string Symbol, double Px);

/// <summary>A service request of the specs.</summary>
public sealed record Quote(string Symbol);
