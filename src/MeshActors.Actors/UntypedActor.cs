namespace MeshActors.Actors;

/// <summary>An actor with one receive method; call <c>Unhandled</c> for messages it does not handle.</summary>
public abstract class UntypedActor : ActorBase
{
    /// <summary>Handles a message.</summary>
    protected abstract void OnReceive(object message);

    /// <inheritdoc />
    protected internal sealed override bool Receive(object message)
    {
        OnReceive(message);
        return true;
    }

    /// <summary>Replaces the current behavior with <paramref name="receive"/>.</summary>
    protected void Become(UntypedReceive receive) => Context.Become(Wrap(receive));

    /// <summary>Pushes <paramref name="receive"/> above the current behavior.</summary>
    protected void BecomeStacked(UntypedReceive receive) => Context.BecomeStacked(Wrap(receive));

    /// <summary>Returns to the behavior below the current one.</summary>
    protected void UnbecomeStacked() => Context.UnbecomeStacked();

    private static Receive Wrap(UntypedReceive receive)
    {
        ArgumentNullException.ThrowIfNull(receive);
        return message =>
        {
            receive(message);
            return true;
        };
    }
}
