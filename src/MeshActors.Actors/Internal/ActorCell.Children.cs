using MeshActors.Actors.Dispatch;

namespace MeshActors.Actors.Internal;

// Children: creation with unique names, stopping, and the bookkeeping when one terminates.
internal sealed partial class ActorCell
{
    private static int s_lastUid;

    private ChildrenContainer? _children;

    public IEnumerable<IActorRef> Children => _children?.Snapshot() ?? [];

    public IActorRef Child(string name) => (IActorRef?)_children?.Get(name) ?? ActorRefs.Nobody;

    public IActorRef ActorOf(Props props, string? name = null) => SpawnChild(props, name);

    /// <summary>Creates a child; thread-safe for the guardians, whose children anyone creates.</summary>
    public LocalActorRef SpawnChild(Props props, string? name)
    {
        ArgumentNullException.ThrowIfNull(props);
        if (name is not null)
        {
            ValidateName(name);
        }

        var child = EnsureChildren().Add(
            name,
            (Cell: this, Props: props),
            static (childName, state) =>
            {
                var path = new ActorPath(state.Cell.Self.Path, childName, Interlocked.Increment(ref s_lastUid));
                return new ActorCell(state.Cell.System, state.Props, state.Cell, path).Self;
            },
            Self.Path);

        child.SendSystemMessage(new Create());
        return child;
    }

    public void Stop(IActorRef actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (actor is LocalActorRef local && ReferenceEquals(local.Cell._parent, this))
        {
            _children?.MarkStopping(local);
        }

        (actor as IInternalActorRef)?.SendSystemMessage(new Terminate());
    }

    private ChildrenContainer EnsureChildren()
    {
        if (_children is { } children)
        {
            return children;
        }

        var created = new ChildrenContainer();
        return Interlocked.CompareExchange(ref _children, created, null) ?? created;
    }

    private bool HasStoppingChildren() => _children is { HasStopping: true };

    /// <summary>A child has terminated: free its name, and finish stopping or restarting if that waited for it.</summary>
    private bool HandleChildTerminated(IActorRef actor)
    {
        if (actor is not LocalActorRef child || _children is not { } children || !children.Remove(child))
        {
            return false;
        }

        if (_state == CellState.Terminating && children.IsEmpty)
        {
            FinishTerminate();
        }
        else if (_state == CellState.Restarting && !children.HasStopping)
        {
            FinishRecreate();
        }

        return true;
    }

    private static void ValidateName(string name)
    {
        if (name.Length == 0)
        {
            throw new InvalidActorNameException("An actor name must not be empty.");
        }

        if (name[0] == '$')
        {
            throw new InvalidActorNameException($"Actor name \"{name}\" must not start with '$' (reserved for generated names).");
        }

        foreach (var c in name)
        {
            if (c is '/' or '#' or '?' or '%' || char.IsWhiteSpace(c) || char.IsControl(c))
            {
                throw new InvalidActorNameException($"Actor name \"{name}\" contains '{c}', which paths do not allow.");
            }
        }
    }
}
