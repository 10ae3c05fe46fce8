namespace MeshActors.Actors;

/// <summary>A behavior: returns true when it handled <paramref name="message"/>.</summary>
public delegate bool Receive(object message);
