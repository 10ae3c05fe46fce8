namespace MeshActors.Actors;

/// <summary>A behavior of an <see cref="UntypedActor"/>; it calls <c>Unhandled</c> itself for messages it does not handle.</summary>
public delegate void UntypedReceive(object message);
