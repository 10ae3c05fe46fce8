using MeshActors.Actors.Dispatch;
using MeshActors.Actors.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MeshActors.Actors;

/// <summary>
/// A hierarchy of actors with its guardians (<c>/user</c> for application actors, <c>/system</c> for
/// infrastructure), its dead letters and its <see cref="EventStream"/>. Create one per process or node with
/// <see cref="Create"/>; <see cref="Terminate"/> stops user actors, then system actors, children before parents.
/// </summary>
public sealed class ActorSystem : IAsyncDisposable
{
    private readonly ActorCell _root;
    private readonly LocalActorRef _userGuardian;
    private readonly LocalActorRef _systemGuardian;
    private readonly ActorPath _tempPath;
    private readonly TaskCompletionSource _terminated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ILogger _log;
    private long _deadLetterCount;
    private long _mailboxOverflowCount;
    private int _lastTempId;
    private int _terminating;

    private ActorSystem(string name, ActorSystemOptions options)
    {
        Name = name;
        Options = options;
        LoggerFactory = options.LoggerFactory ?? NullLoggerFactory.Instance;
        _log = LoggerFactory.CreateLogger("MeshActors.Actors.ActorSystem");
        EventStream = new EventStream(this);

        var rootPath = new ActorPath(name);
        DeadLetters = new DeadLetterActorRef(this, rootPath / "deadLetters");
        _tempPath = rootPath / "temp";
        _root = new ActorCell(this, Props.Create<RootGuardian>().WithSupervisorStrategy(SupervisorStrategy.StoppingStrategy), null, rootPath);
        _userGuardian = _root.SpawnChild(Props.Create<Guardian>(), "user");
        _systemGuardian = _root.SpawnChild(Props.Create<Guardian>(), "system");
        _root.SendSystemMessage(new Create());
        KernelLog.SystemStarted(_log, name);
    }

    /// <summary>The system's name, the authority of its actor paths.</summary>
    public string Name { get; }

    /// <summary>The options the system was created with.</summary>
    public ActorSystemOptions Options { get; }

    /// <summary>Where the kernel and the actors log.</summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>The system's publish/subscribe bus.</summary>
    public EventStream EventStream { get; }

    /// <summary>Receives what cannot be delivered; sending to it publishes a <see cref="DeadLetter"/>.</summary>
    public IActorRef DeadLetters { get; }

    /// <summary>How many messages went to dead letters so far.</summary>
    public long DeadLetterCount => Interlocked.Read(ref _deadLetterCount);

    /// <summary>How many messages full bounded mailboxes refused so far (each also counts as a dead letter).</summary>
    public long MailboxOverflowCount => Interlocked.Read(ref _mailboxOverflowCount);

    /// <summary>Completes once every actor has stopped.</summary>
    public Task WhenTerminated => _terminated.Task;

    /// <summary>Creates and starts a system named <paramref name="name"/> (letters, digits, '-', '_', '.').</summary>
    public static ActorSystem Create(string name, ActorSystemOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new ArgumentException($"Actor system name \"{name}\" may only contain letters, digits, '-', '_' and '.'.", nameof(name));
        }

        return new ActorSystem(name, options ?? new ActorSystemOptions());
    }

    /// <summary>Creates a top-level application actor under <c>/user</c>.</summary>
    public IActorRef ActorOf(Props props, string? name = null) => _userGuardian.Cell.ActorOf(props, name);

    /// <summary>Creates an infrastructure actor under <c>/system</c>, which outlives the application actors at shutdown.</summary>
    public IActorRef SystemActorOf(Props props, string? name = null) => _systemGuardian.Cell.ActorOf(props, name);

    /// <summary>Stops <paramref name="actor"/> after the message it is processing (its children first).</summary>
    public void Stop(IActorRef actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        (actor as IInternalActorRef)?.SendSystemMessage(new Terminate());
    }

    /// <summary>Stops every actor (user actors, then system actors, children before parents) and completes when done.</summary>
    public Task Terminate()
    {
        if (MarkTerminating())
        {
            _userGuardian.SendSystemMessage(new Terminate());
        }

        return WhenTerminated;
    }

    /// <summary>Same as <see cref="Terminate"/>.</summary>
    public async ValueTask DisposeAsync() => await Terminate().ConfigureAwait(false);

    /// <inheritdoc />
    public override string ToString() => $"ActorSystem {Name}";

    internal IActorRef SystemGuardian => _systemGuardian;

    internal IActorRef UserGuardian => _userGuardian;

    internal bool MarkTerminating()
    {
        if (Interlocked.Exchange(ref _terminating, 1) != 0)
        {
            return false;
        }

        KernelLog.SystemTerminating(_log, Name);
        return true;
    }

    internal void OnRootTerminated()
    {
        KernelLog.SystemTerminated(_log, Name);
        _terminated.TrySetResult();
    }

    internal int NextTempId() => Interlocked.Increment(ref _lastTempId);

    internal ActorPath TempPath(int id) => new(_tempPath, "$" + id.ToString(System.Globalization.CultureInfo.InvariantCulture), id);

    internal void Overflow(Envelope envelope, IActorRef recipient)
    {
        Interlocked.Increment(ref _mailboxOverflowCount);
        DeadLetter(envelope.Message, envelope.Sender, recipient, overflow: true);
    }

    /// <summary>Counts, logs (the first few) and publishes an undelivered message; an ask waiting on it fails at once.</summary>
    internal void DeadLetter(object message, IActorRef? sender, IActorRef recipient, bool overflow = false)
    {
        if (message is TimerScheduler.ActiveTimer or ActorCell.ReceiveTimeoutTick or ActorCell.WatchedTerminated)
        {
            return; // the kernel's own notices for an actor that stopped meanwhile: nothing was lost
        }

        if (message is DeadLetter)
        {
            // A DeadLetter event that its subscriber could not take (stopped, or its bounded mailbox is full): as in
            // Akka.NET it is dropped, not published again, which would feed the same subscriber without end.
            return;
        }

        (sender as IPromiseActorRef)?.FailUndelivered(recipient, message, overflow);
        var senderOrDeadLetters = sender is null || ReferenceEquals(sender, ActorRefs.NoSender) ? DeadLetters : sender;
        var count = Interlocked.Increment(ref _deadLetterCount);
        var limit = Options.LogDeadLetters;
        if (count <= limit && _terminating == 0)
        {
            KernelLog.DeadLetter(_log, message.GetType().Name, senderOrDeadLetters, recipient,
                overflow ? "its bounded mailbox is full" : "the recipient is stopped", count);
            if (count == limit)
            {
                KernelLog.DeadLettersSilenced(_log, count);
            }
        }

        EventStream.Publish(new DeadLetter(message, senderOrDeadLetters, recipient));
    }

    internal void LogChildFailure(Exception cause, IActorRef child, Directive directive) =>
        KernelLog.ChildFailed(_log, directive == Directive.Resume ? LogLevel.Warning : LogLevel.Error, cause,
            child.Path.ToString(), cause.GetType().Name, cause.Message, directive);

    internal void LogHookFailed(Exception exception, IActorRef actor, string hook) =>
        KernelLog.HookFailed(_log, exception, actor.Path.ToString(), hook);

    internal void LogIgnoredFailure(Exception exception, IActorRef actor) =>
        KernelLog.IgnoredFailure(_log, exception, actor.Path.ToString());

    internal void LogGuardianFailed(Exception exception, IActorRef actor) =>
        KernelLog.GuardianFailed(_log, exception, actor.Path.ToString());

    internal void LogInternalError(Exception exception, IActorRef actor) =>
        KernelLog.InternalError(_log, exception, actor.Path.ToString());

    internal void LogUnhandled(object message, IActorRef recipient) =>
        KernelLog.Unhandled(_log, recipient, message.GetType().Name);

    /// <summary><c>/user</c> and <c>/system</c>: plain parents with the default strategy.</summary>
    private sealed class Guardian : ActorBase
    {
        protected internal override bool Receive(object message) => false;
    }

    /// <summary><c>/</c>: when <c>/user</c> stops (terminate, or an escalated failure) it stops <c>/system</c>, then itself.</summary>
    private sealed class RootGuardian : ActorBase
    {
        protected override void PreStart()
        {
            foreach (var child in Context.Children)
            {
                Context.Watch(child);
            }
        }

        protected internal override bool Receive(object message)
        {
            if (message is not Terminated terminated)
            {
                return false;
            }

            var system = Context.System;
            if (terminated.ActorRef.Equals(system.UserGuardian))
            {
                system.MarkTerminating();
                Context.Stop(system.SystemGuardian);
            }
            else if (terminated.ActorRef.Equals(system.SystemGuardian))
            {
                Context.Stop(Self);
            }

            return true;
        }
    }
}
