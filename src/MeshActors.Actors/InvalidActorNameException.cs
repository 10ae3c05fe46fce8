namespace MeshActors.Actors;

/// <summary>An actor name is malformed or already taken among its siblings.</summary>
public sealed class InvalidActorNameException(string message) : ArgumentException(message);
