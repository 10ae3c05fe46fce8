namespace MeshActors.Actors;

/// <summary>Marks a message that does not count as activity for <see cref="IActorContext.SetReceiveTimeout"/>: a periodic tick, a metrics probe.</summary>
public interface INotInfluenceReceiveTimeout;
