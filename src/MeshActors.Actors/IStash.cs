namespace MeshActors.Actors;

/// <summary>
/// Puts messages aside to process them later (for instance while an actor initializes). Unstashed messages go to the
/// front of the mailbox in their original order. On restart the stash is unstashed; on stop its messages go to dead letters.
/// </summary>
public interface IStash
{
    /// <summary>Puts the message being processed aside; a second call for the same message throws <see cref="IllegalActorStateException"/>.</summary>
    void Stash();

    /// <summary>Returns the oldest stashed message to the front of the mailbox.</summary>
    void Unstash();

    /// <summary>Returns every stashed message to the front of the mailbox, oldest first.</summary>
    void UnstashAll();

    /// <summary>How many messages are stashed.</summary>
    int Count { get; }

    /// <summary>Whether nothing is stashed.</summary>
    bool IsEmpty { get; }
}
