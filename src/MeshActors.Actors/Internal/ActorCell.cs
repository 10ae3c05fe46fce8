using MeshActors.Actors.Dispatch;
using Microsoft.Extensions.Logging;

namespace MeshActors.Actors.Internal;

/// <summary>
/// The runtime side of one actor: its mailbox, its current message, its behavior stack, its children, its watchers
/// and its supervision state. Everything here runs on the actor's turn (one thread at a time, see
/// <see cref="Mailbox"/>), except what is marked thread-safe. Split by concern into partial files, as Akka.NET's.
/// </summary>
internal sealed partial class ActorCell : IActorContext
{
    [ThreadStatic]
    private static ActorCell? t_current;

    [ThreadStatic]
    private static ActorCell? t_constructing;

    // The TestKit's implicit sender for code outside of actors (Akka.NET's TestActor as sender of the test body).
    private static readonly AsyncLocal<IActorRef?> s_implicitSender = new();

    private readonly Props _props;
    private readonly ActorCell? _parent;
    private ActorBase? _actor;
    private Envelope _current;
    private int _messageNumber;
    private Stack<Receive>? _behaviors;
    private CellState _state;
    private ILogger? _log;

    public ActorCell(ActorSystem system, Props props, ActorCell? parent, ActorPath path)
    {
        System = system;
        _props = props;
        _parent = parent;
        Mailbox = new Mailbox(this, props.Mailbox);
        Self = new LocalActorRef(this, path);
        UserSuspended = true;
    }

    private enum CellState
    {
        Creating,
        Running,
        Restarting,
        Terminating,
        Terminated,
    }

    public Mailbox Mailbox { get; }

    public LocalActorRef Self { get; }

    public ActorSystem System { get; }

    /// <summary>Whether user messages must wait (not yet created, failed, awaiting an async handler, restarting or stopping).</summary>
    public bool UserSuspended { get; private set; }

    /// <summary>The actor of the current turn, if any.</summary>
    public static ActorCell? Current => t_current;

    /// <summary>The sender implied by a Tell without one: the current actor, else the TestKit's test actor, else none.</summary>
    public static IActorRef? ImplicitSender => t_current?.Self ?? s_implicitSender.Value;

    /// <summary>Sets the sender implied by Tells from code outside of actors on this async flow (used by the TestKit).</summary>
    public static void SetImplicitSender(IActorRef? sender) => s_implicitSender.Value = sender;

    /// <summary>The sender of the current message as it was given (for Forward).</summary>
    public static IActorRef? CurrentRawSender => t_current?._current.Sender;

    IActorRef IActorContext.Self => Self;

    public IActorRef Sender =>
        _current.Sender is { } sender && !ReferenceEquals(sender, ActorRefs.NoSender) ? sender : System.DeadLetters;

    public IActorRef Parent => (IActorRef?)_parent?.Self ?? ActorRefs.Nobody;

    public Props Props => _props;

    public ILogger Log => _log ??= System.LoggerFactory.CreateLogger(_props.ActorType);

    internal Envelope CurrentEnvelope => _current;

    /// <summary>Tells one delivery from the next (wrapping), so that the stash can refuse the same message twice.</summary>
    internal int CurrentMessageNumber => _messageNumber;

    internal static ActorCell? EnterTurn(ActorCell cell)
    {
        var previous = t_current;
        t_current = cell;
        return previous;
    }

    internal static void ExitTurn(ActorCell? previous) => t_current = previous;

    // The timers of the instance being constructed, until it is: a constructor that fails leaves them to the cell.
    private TimerScheduler? _constructorTimers;

    /// <summary>Called by <see cref="ActorBase"/>'s constructor for an actor with timers: they are made before the constructor's body runs.</summary>
    internal TimerScheduler NewTimers() => _constructorTimers = new TimerScheduler(this);

    /// <summary>Called by <see cref="ActorBase"/>'s constructor: the cell it belongs to, consumed so that a second <c>new</c> fails.</summary>
    internal static ActorCell? TakeConstructing()
    {
        var cell = t_constructing;
        t_constructing = null;
        return cell;
    }

    /// <summary>Processes one user message; the hot path.</summary>
    public void Invoke(Envelope envelope)
    {
        _current = envelope;
        _messageNumber++;
        var delivered = true;
        try
        {
            if (envelope.Message is IAutoReceivedMessage)
            {
                delivered = AutoReceive(envelope.Message);
            }
            else
            {
                ReceiveMessage(envelope.Message);
            }
        }
        catch (Exception exception)
        {
            HandleInvokeFailure(exception);
        }

        if (delivered)
        {
            NoteActivity(envelope.Message); // silence begins when the message is done, as in Akka.NET
        }

        if (_pendingAsync is null)
        {
            _current = default;
        }
    }

    /// <summary>Runs the current behavior on <paramref name="message"/>, and <c>Unhandled</c> if it declines.</summary>
    public void ReceiveMessage(object message)
    {
        var actor = _actor!;
        var handled = _behaviors is { Count: > 0 } behaviors ? behaviors.Peek()(message) : actor.Receive(message);
        if (!handled)
        {
            actor.AroundUnhandled(message);
        }
    }

    /// <summary>Handles a message the kernel acts on itself; false when it was dropped, unseen by the actor (a stale tick, an unwatched actor's end).</summary>
    private bool AutoReceive(object message)
    {
        switch (message)
        {
            case WatchedTerminated watched:
                return ReceivedTerminated(watched.Terminated);
            case PoisonPill:
                Self.SendSystemMessage(new Terminate());
                return true;
            case Kill:
                throw new ActorKilledException($"Kill received by {Self.Path}.");
            case TimerScheduler.ActiveTimer timer:
                // A tick of an earlier instance's timer (queued before a restart cancelled it) is not for this one.
                if (!ReferenceEquals(timer.Owner, (_actor as IWithTimers)?.Timers) || !timer.Owner.Accept(timer))
                    return false;
                _current = new Envelope(timer.Message, _current.Sender); // what Stash() keeps
                ReceiveMessage(timer.Message);
                return true;
            case ReceiveTimeoutTick:
                OnReceiveTimeoutTick();
                return true;
            default:
                return true;
        }
    }

    // As in Akka.NET, the actor's initial behavior lies under the stack and is never popped: Become replaces the top
    // replacement (or adds the first), and UnbecomeStacked after a Become returns to the initial behavior.
    public void Become(Receive receive)
    {
        ArgumentNullException.ThrowIfNull(receive);
        var behaviors = _behaviors ??= new Stack<Receive>(2);
        if (behaviors.Count > 0)
        {
            behaviors.Pop();
        }

        behaviors.Push(receive);
    }

    public void BecomeStacked(Receive receive)
    {
        ArgumentNullException.ThrowIfNull(receive);
        (_behaviors ??= new Stack<Receive>(2)).Push(receive);
    }

    public void UnbecomeStacked()
    {
        if (_behaviors is { Count: > 0 } behaviors)
        {
            behaviors.Pop();
        }
    }

    private void ResetBehavior() => _behaviors = null;

    private void UpdateSuspension() =>
        UserSuspended = _state != CellState.Running || _failed || _pendingAsync is not null;

    public override string ToString() => $"ActorCell {Self.Path}";
}
