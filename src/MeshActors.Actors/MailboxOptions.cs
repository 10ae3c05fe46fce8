namespace MeshActors.Actors;

/// <summary>The kind of mailbox an actor gets; see <see cref="Props.WithMailbox"/>.</summary>
public sealed record MailboxOptions
{
    /// <summary>An unbounded mailbox (the default): a Tell always enqueues.</summary>
    public static MailboxOptions Unbounded { get; } = new();

    /// <summary>
    /// When set, the mailbox holds at most this many user messages; a Tell to a full mailbox never blocks: the message
    /// goes to dead letters and is counted in <see cref="ActorSystem.MailboxOverflowCount"/>. Default: null, unbounded.
    /// </summary>
    public int? BoundedCapacity
    {
        get;
        init
        {
            if (value is < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(BoundedCapacity), value, "A bounded mailbox holds at least one message.");
            }

            field = value;
        }
    }

    /// <summary>A bounded mailbox of <paramref name="capacity"/> messages.</summary>
    public static MailboxOptions Bounded(int capacity) => new() { BoundedCapacity = capacity };
}
