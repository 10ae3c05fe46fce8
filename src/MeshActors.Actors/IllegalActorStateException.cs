namespace MeshActors.Actors;

/// <summary>Thrown inside an actor that used the kernel in a way its state forbids, such as stashing the same message twice (as in Akka.NET).</summary>
public sealed class IllegalActorStateException(string message) : Exception(message);
