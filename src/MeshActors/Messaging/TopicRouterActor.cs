using MeshActors.Actors;
using Microsoft.Extensions.Logging;

namespace MeshActors.Messaging;

/// <summary>
/// Owns where messages go: this node's topic subscriptions and hosted services, and what every connected peer said it
/// listens to and provides (its latest <c>interest</c>). After each change it publishes a new immutable
/// <see cref="RoutingTable"/> for the hot paths, and announces this node's own interest to its peers.
/// </summary>
/// <remarks>
/// Accepts <see cref="Subscribe"/>, <see cref="Unsubscribe"/> (answered to the sender) and <see cref="Publish"/> from any
/// actor. Subscribers and service actors are watched: one that stops is dropped. Callback subscriptions run in child
/// actors, one per subscription, so that a slow callback delays only itself and each keeps the publishers' order.
/// An actor is subscribed to a topic once, however many hold it there: the <see cref="Subscribe"/> messages, as one
/// holder however many came (as in Akka.NET's DistributedPubSub), and each <see cref="IMesh.Subscribe(string, IActorRef)"/>
/// handle, one holder apiece. It gets each message once, until the last holder lets go.
/// </remarks>
internal sealed partial class TopicRouterActor : ReceiveActor
{
    private readonly MeshMessaging _messaging;
    private readonly ILogger _log;
    private readonly Dictionary<string, List<IActorRef>> _subscribers = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Topic, IActorRef Subscriber), SubscriptionGate> _gates = new();
    private readonly Dictionary<IActorRef, Dictionary<string, HashSet<long>>> _holders = [];
    private readonly Dictionary<IActorRef, SubscriberBacklog> _backlogs = [];
    private readonly Dictionary<string, IActorRef> _services = new(StringComparer.Ordinal);

    /// <summary>The holder that stands for every <see cref="Subscribe"/> message; handles and callbacks hold with their registration ids, from 1.</summary>
    private const long SubscribeMessages = 0;

    public TopicRouterActor(MeshMessaging messaging)
    {
        _messaging = messaging;
        _log = Context.Log;

        Receive<Subscribe>(OnSubscribe);
        Receive<Unsubscribe>(OnUnsubscribe);
        Receive<Publish>(OnPublish);
        Receive<HoldSubscription>(OnHoldSubscription);
        Receive<ReleaseSubscription>(release => Release(release.Topic, release.Subscriber, release.Holder));
        Receive<SubscribeCallback>(OnSubscribeCallback);
        Receive<CancelCallback>(OnCancelCallback);
        Receive<RegisterService>(OnRegisterService);
        Receive<Terminated>(OnTerminated);
        ReceiveInterest();
    }

    public static Props Props(MeshMessaging messaging) => Actors.Props.Create(() => new TopicRouterActor(messaging));

    private void OnSubscribe(Subscribe subscribe)
    {
        if (Refused(subscribe.Topic, subscribe.Subscriber))
            return;
        Hold(subscribe.Topic, subscribe.Subscriber, SubscribeMessages);
        Sender.Tell(new SubscribeAck(subscribe));
    }

    private void OnUnsubscribe(Unsubscribe unsubscribe)
    {
        if (Refused(unsubscribe.Topic, unsubscribe.Subscriber))
            return;
        Release(unsubscribe.Topic, unsubscribe.Subscriber, SubscribeMessages);
        Sender.Tell(new UnsubscribeAck(unsubscribe));
    }

    private void OnHoldSubscription(HoldSubscription hold)
    {
        Hold(hold.Topic, hold.Subscriber, hold.Holder);
        Sender.Tell(new SubscribeAck(new Subscribe(hold.Topic, hold.Subscriber)));
    }

    private void OnPublish(Publish publish)
    {
        if (Problem(publish.Topic) is { } problem)
        {
            MessagingLog.RefusedTopic(_log, Sender.Path.ToString(), problem.Message); // a Publish has nobody to answer to
            return;
        }

        ReadOnlyMemory<byte> data, attachment;
        try
        {
            (data, attachment) = Payload.Encode(publish.Message, publish.Attachment, "message", _messaging.Json);
        }
        catch (Exception ex)
        {
            MessagingLog.RefusedPublish(_log, Sender.Path.ToString(), publish.Topic, ex.Message); // a Publish has nobody to answer to
            return;
        }

        _messaging.Publish(publish.Topic, data, attachment);
    }

    private void OnSubscribeCallback(SubscribeCallback subscribe)
    {
        var backlog = new SubscriberBacklog(_messaging.Options.SubscriberBacklogLimit, _messaging.Options.SubscriberBacklogBytes, _messaging.Stats);
        var child = Context.ActorOf(TopicCallbackActor.Props(subscribe.Topic, subscribe.Handler, backlog, _messaging.Stats), CallbackName(subscribe.Id));
        _backlogs[child] = backlog;
        _messaging.OnLocalBacklogsChanged([.. _backlogs.Values]);
        Hold(subscribe.Topic, child, subscribe.Id);
        Sender.Tell(new SubscribeAck(new Subscribe(subscribe.Topic, child)));
    }

    private void OnCancelCallback(CancelCallback cancel)
    {
        var child = Context.Child(CallbackName(cancel.Id));
        if (child.Equals(ActorRefs.Nobody))
            return;
        RemoveSubscriber(child);
        Context.Stop(child);
    }

    private void OnRegisterService(RegisterService register)
    {
        _services[register.Service] = register.ServiceActor;
        Context.Watch(register.ServiceActor);
        Changed();
        register.ReplyTo.Tell(new ServiceHosted(register.Service));
    }

    private void OnTerminated(Terminated terminated)
    {
        RemoveSubscriber(terminated.ActorRef);
        // Only the incarnation that stopped: the service may already be hosted again by a newer actor.
        var service = _services.FirstOrDefault(hosted => hosted.Value.Equals(terminated.ActorRef)).Key;
        if (service is not null)
        {
            _services.Remove(service);
            Changed();
        }
    }

    /// <summary>Adds <paramref name="holder"/> to those that keep <paramref name="subscriber"/> on <paramref name="topic"/>; the first one subscribes it.</summary>
    private void Hold(string topic, IActorRef subscriber, long holder)
    {
        if (!_holders.TryGetValue(subscriber, out var topics))
        {
            _holders[subscriber] = topics = new Dictionary<string, HashSet<long>>(StringComparer.Ordinal);
            Context.Watch(subscriber);
        }

        if (topics.TryGetValue(topic, out var holders))
        {
            holders.Add(holder);
            return;
        }

        topics[topic] = [holder];
        if (!_subscribers.TryGetValue(topic, out var subscribers))
            _subscribers[topic] = subscribers = [];
        subscribers.Add(subscriber);
        _gates[(topic, subscriber)] = new SubscriptionGate();
        Changed();
    }

    /// <summary>Lets <paramref name="holder"/> go; the last one to go unsubscribes <paramref name="subscriber"/> from <paramref name="topic"/>.</summary>
    private void Release(string topic, IActorRef subscriber, long holder)
    {
        if (!_holders.TryGetValue(subscriber, out var topics) || !topics.TryGetValue(topic, out var holders) || !holders.Remove(holder) || holders.Count > 0)
            return;
        topics.Remove(topic);
        if (topics.Count == 0)
        {
            _holders.Remove(subscriber);
            Context.Unwatch(subscriber);
        }

        Unlist(topic, subscriber);
        Changed();
    }

    /// <summary>Ends every subscription of <paramref name="subscriber"/>, whoever holds it: it stopped, or it was a callback's actor.</summary>
    private void RemoveSubscriber(IActorRef subscriber)
    {
        if (_backlogs.Remove(subscriber))
            _messaging.OnLocalBacklogsChanged([.. _backlogs.Values]);
        if (!_holders.Remove(subscriber, out var topics))
            return;
        Context.Unwatch(subscriber);
        foreach (var topic in topics.Keys)
            Unlist(topic, subscriber);
        Changed();
    }

    private void Unlist(string topic, IActorRef subscriber)
    {
        // Before the end is acknowledged: a publish under way with the routes of before tells it nothing more.
        if (_gates.Remove((topic, subscriber), out var gate))
            gate.Close();
        var subscribers = _subscribers[topic];
        subscribers.Remove(subscriber);
        if (subscribers.Count == 0)
            _subscribers.Remove(topic);
    }

    // What the facade refuses is refused here too, answered with the exception the facade throws: a topic the wire
    // cannot carry would be announced mangled, and a missing subscriber would fail the router instead of its sender.
    private bool Refused(string topic, IActorRef? subscriber)
    {
        var problem = subscriber is null ? new ArgumentNullException(nameof(subscriber), "A Subscribe or Unsubscribe message needs a subscriber actor.") : Problem(topic);
        if (problem is null)
            return false;
        MessagingLog.RefusedTopic(_log, Sender.Path.ToString(), problem.Message);
        Sender.Tell(new Status.Failure(problem));
        return true;
    }

    private static ArgumentException? Problem(string topic)
    {
        try
        {
            MeshMessaging.ValidateName(topic, "topic", nameof(topic));
            return null;
        }
        catch (ArgumentException ex)
        {
            return ex;
        }
    }

    private static string CallbackName(long id) => "callback-" + id.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
