using System.Collections.Concurrent;
using MeshActors.Actors.Internal;

namespace MeshActors.Actors;

/// <summary>
/// The system-wide publish/subscribe bus: a subscriber to a type receives every published event of that type or a
/// subtype (subscribe to <see cref="object"/> for all). The kernel publishes <see cref="DeadLetter"/> and
/// <see cref="UnhandledMessage"/>; the mesh publishes its own events. Thread-safe; an actor's subscriptions end when it
/// stops, before its remaining messages go to dead letters. A <see cref="DeadLetter"/> that its subscriber cannot take
/// (stopped, or its bounded mailbox is full) is dropped, not published again, as in Akka.NET; an
/// <see cref="UnhandledMessage"/> or <see cref="DeadLetter"/> that a subscriber to <see cref="object"/> leaves
/// unhandled is logged, not published again.
/// </summary>
public sealed class EventStream
{
    private readonly object _gate = new();
    private readonly ActorSystem _system;
    private volatile Snapshot _snapshot = new([]);

    internal EventStream(ActorSystem system) => _system = system;

    /// <summary>Sends events of <paramref name="channel"/> (and its subtypes) to <paramref name="subscriber"/>; false if it already was subscribed.</summary>
    public bool Subscribe(IActorRef subscriber, Type channel)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        ArgumentNullException.ThrowIfNull(channel);
        lock (_gate)
        {
            var all = _snapshot.All;
            if (Array.Exists(all, s => s.Is(subscriber, channel)))
            {
                return false;
            }

            _snapshot = new Snapshot([.. all, new ActorSubscription(subscriber, channel)]);
        }

        // An actor that has stopped (or is stopping, past its own unsubscribe) would hold the subscription for the
        // system's whole life, each event a dead letter; the stopping cell unsubscribes again once its mailbox is closed.
        if (subscriber is IInternalActorRef { IsTerminated: true })
        {
            Unsubscribe(subscriber, channel);
        }

        return true;
    }

    /// <summary>Sends events of <typeparamref name="T"/> (and its subtypes) to <paramref name="subscriber"/>.</summary>
    public bool Subscribe<T>(IActorRef subscriber) => Subscribe(subscriber, typeof(T));

    /// <summary>
    /// Calls <paramref name="handler"/> with every event of <typeparamref name="T"/>, synchronously on the publishing
    /// thread (keep it short; exceptions are logged); dispose the result to unsubscribe. For code outside of actors.
    /// </summary>
    public IDisposable Subscribe<T>(Action<T> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var subscription = new HandlerSubscription<T>(handler, this);
        lock (_gate)
        {
            _snapshot = new Snapshot([.. _snapshot.All, subscription]);
        }

        return subscription;
    }

    /// <summary>Ends every subscription of <paramref name="subscriber"/>; false if it had none.</summary>
    public bool Unsubscribe(IActorRef subscriber) =>
        _snapshot.All.Length != 0 && Remove(s => s.Is(subscriber, channel: null));

    /// <summary>Ends the subscription of <paramref name="subscriber"/> to <paramref name="channel"/>; false if it had none.</summary>
    public bool Unsubscribe(IActorRef subscriber, Type channel) => Remove(s => s.Is(subscriber, channel));

    /// <summary>Delivers <paramref name="event"/> to the subscribers of its type and base types.</summary>
    public void Publish(object @event)
    {
        ArgumentNullException.ThrowIfNull(@event);
        foreach (var subscription in _snapshot.For(@event.GetType()))
        {
            subscription.Deliver(@event, _system);
        }
    }

    private bool Remove(Predicate<Subscription> match)
    {
        if (!Array.Exists(_snapshot.All, match))
        {
            return false; // the common case when an actor stops: no lock taken
        }

        lock (_gate)
        {
            var all = _snapshot.All;
            var kept = Array.FindAll(all, s => !match(s));
            _snapshot = new Snapshot(kept);
            return kept.Length != all.Length;
        }
    }

    /// <summary>The subscriptions at one moment, with the per-type lists computed lazily; replaced whole on every change.</summary>
    private sealed class Snapshot(Subscription[] all)
    {
        private readonly ConcurrentDictionary<Type, Subscription[]> _byType = new();

        public Subscription[] All { get; } = all;

        public Subscription[] For(Type type) =>
            All.Length == 0
                ? All
                : _byType.GetOrAdd(type, static (t, all) => Distinct(Array.FindAll(all, s => s.Channel.IsAssignableFrom(t))), All);

        // An actor subscribed to a type and to its base type gets each event once, as in Akka.NET.
        private static Subscription[] Distinct(Subscription[] matching) =>
            matching.Length < 2 ? matching : matching.DistinctBy(s => s.Receiver).ToArray();
    }

    private abstract class Subscription(Type channel)
    {
        public Type Channel { get; } = channel;

        /// <summary>Who gets the events: the actor, or for a handler the subscription itself.</summary>
        public virtual object Receiver => this;

        public abstract bool Is(IActorRef subscriber, Type? channel);

        public abstract void Deliver(object @event, ActorSystem system);
    }

    private sealed class ActorSubscription(IActorRef subscriber, Type channel) : Subscription(channel)
    {
        public override object Receiver => subscriber;

        public override bool Is(IActorRef actor, Type? channel) =>
            subscriber.Equals(actor) && (channel is null || channel == Channel);

        public override void Deliver(object @event, ActorSystem system) => subscriber.Tell(@event, ActorRefs.NoSender);
    }

    private sealed class HandlerSubscription<T>(Action<T> handler, EventStream stream) : Subscription(typeof(T)), IDisposable
    {
        public override bool Is(IActorRef subscriber, Type? channel) => false;

        public override void Deliver(object @event, ActorSystem system)
        {
            try
            {
                handler((T)@event);
            }
            catch (Exception exception)
            {
                system.LogHookFailed(exception, system.DeadLetters, $"EventStream handler for {typeof(T).Name}");
            }
        }

        public void Dispose() => stream.Remove(s => ReferenceEquals(s, this));
    }
}
