namespace MeshActors.Actors;

/// <summary>The immutable recipe for creating an actor: its factory, its mailbox, and how it supervises its children.</summary>
public sealed class Props
{
    private readonly Func<ActorBase> _factory;

    private Props(Type actorType, Func<ActorBase> factory, SupervisorStrategy? supervisorStrategy, MailboxOptions mailbox)
    {
        ActorType = actorType;
        _factory = factory;
        SupervisorStrategy = supervisorStrategy;
        Mailbox = mailbox;
    }

    /// <summary>The type of actor the factory creates.</summary>
    public Type ActorType { get; }

    /// <summary>How the actor supervises its children; when null, the actor's own <c>SupervisorStrategy()</c> decides.</summary>
    public SupervisorStrategy? SupervisorStrategy { get; }

    /// <summary>The actor's mailbox.</summary>
    public MailboxOptions Mailbox { get; }

    /// <summary>Props that create <typeparamref name="TActor"/> with its parameterless constructor.</summary>
    public static Props Create<TActor>()
        where TActor : ActorBase, new()
        => new(typeof(TActor), static () => new TActor(), null, MailboxOptions.Unbounded);

    /// <summary>Props that create the actor with <paramref name="factory"/>, e.g. <c>Props.Create(() => new Worker(a, b))</c>; called again on every restart.</summary>
    public static Props Create<TActor>(Func<TActor> factory)
        where TActor : ActorBase
    {
        ArgumentNullException.ThrowIfNull(factory);
        return new Props(typeof(TActor), factory, null, MailboxOptions.Unbounded);
    }

    /// <summary>The same props with <paramref name="strategy"/> for the actor's children (overrides the actor's <c>SupervisorStrategy()</c>).</summary>
    public Props WithSupervisorStrategy(SupervisorStrategy strategy)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        return new Props(ActorType, _factory, strategy, Mailbox);
    }

    /// <summary>The same props with another mailbox.</summary>
    public Props WithMailbox(MailboxOptions mailbox)
    {
        ArgumentNullException.ThrowIfNull(mailbox);
        return new Props(ActorType, _factory, SupervisorStrategy, mailbox);
    }

    /// <summary>The same props with a bounded mailbox of <paramref name="capacity"/> messages (overflow goes to dead letters, the sender never blocks).</summary>
    public Props WithBoundedMailbox(int capacity) => WithMailbox(MailboxOptions.Bounded(capacity));

    internal ActorBase NewActor() => _factory();

    /// <inheritdoc />
    public override string ToString() => $"Props<{ActorType.Name}>";
}
