namespace MeshActors.Actors;

/// <summary>Implemented by an actor that stashes messages; the kernel sets <see cref="Stash"/> before the actor's constructor body runs.</summary>
public interface IWithStash
{
    /// <summary>The actor's stash.</summary>
    IStash Stash { get; set; }
}
