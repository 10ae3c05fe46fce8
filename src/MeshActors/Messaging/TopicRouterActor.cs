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
/// </remarks>
internal sealed partial class TopicRouterActor : ReceiveActor
{
    private readonly MeshMessaging _messaging;
    private readonly ILogger _log;
    private readonly Dictionary<string, List<IActorRef>> _subscribers = new(StringComparer.Ordinal);
    private readonly Dictionary<IActorRef, HashSet<string>> _topicsOf = [];
    private readonly Dictionary<IActorRef, SubscriberBacklog> _backlogs = [];
    private readonly Dictionary<string, IActorRef> _services = new(StringComparer.Ordinal);

    public TopicRouterActor(MeshMessaging messaging)
    {
        _messaging = messaging;
        _log = Context.Log;

        Receive<Subscribe>(OnSubscribe);
        Receive<Unsubscribe>(OnUnsubscribe);
        Receive<Publish>(OnPublish);
        Receive<SubscribeCallback>(OnSubscribeCallback);
        Receive<CancelCallback>(OnCancelCallback);
        Receive<RegisterService>(OnRegisterService);
        Receive<Terminated>(OnTerminated);
        ReceiveInterest();
    }

    public static Props Props(MeshMessaging messaging) => Actors.Props.Create(() => new TopicRouterActor(messaging));

    private void OnSubscribe(Subscribe subscribe)
    {
        if (Refused(subscribe.Topic))
            return;
        AddSubscriber(subscribe.Topic, subscribe.Subscriber);
        Sender.Tell(new SubscribeAck(subscribe));
    }

    private void OnUnsubscribe(Unsubscribe unsubscribe)
    {
        if (_subscribers.TryGetValue(unsubscribe.Topic, out var subscribers) && subscribers.Remove(unsubscribe.Subscriber))
        {
            if (subscribers.Count == 0)
                _subscribers.Remove(unsubscribe.Topic);
            var topics = _topicsOf[unsubscribe.Subscriber];
            topics.Remove(unsubscribe.Topic);
            if (topics.Count == 0)
            {
                _topicsOf.Remove(unsubscribe.Subscriber);
                Context.Unwatch(unsubscribe.Subscriber);
            }

            Changed();
        }

        Sender.Tell(new UnsubscribeAck(unsubscribe));
    }

    private void OnPublish(Publish publish)
    {
        if (string.IsNullOrEmpty(publish.Topic))
        {
            MessagingLog.RefusedTopic(_log, Sender.Path.ToString());
            return;
        }

        var (data, attachment) = Payload.Encode(publish.Message, _messaging.Json);
        if (!publish.Attachment.IsEmpty)
            attachment = publish.Attachment;
        _messaging.Publish(publish.Topic, data, attachment);
    }

    private void OnSubscribeCallback(SubscribeCallback subscribe)
    {
        var backlog = new SubscriberBacklog(_messaging.Options.SubscriberBacklogLimit, _messaging.Options.SubscriberBacklogBytes, _messaging.Stats);
        var child = Context.ActorOf(TopicCallbackActor.Props(subscribe.Topic, subscribe.Handler, backlog, _messaging.Stats), CallbackName(subscribe.Id));
        _backlogs[child] = backlog;
        AddSubscriber(subscribe.Topic, child);
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

    private void AddSubscriber(string topic, IActorRef subscriber)
    {
        if (!_topicsOf.TryGetValue(subscriber, out var topics))
        {
            _topicsOf[subscriber] = topics = new HashSet<string>(StringComparer.Ordinal);
            Context.Watch(subscriber);
        }

        if (!topics.Add(topic))
            return;
        if (!_subscribers.TryGetValue(topic, out var subscribers))
            _subscribers[topic] = subscribers = [];
        subscribers.Add(subscriber);
        Changed();
    }

    private void RemoveSubscriber(IActorRef subscriber)
    {
        _backlogs.Remove(subscriber);
        if (!_topicsOf.Remove(subscriber, out var topics))
            return;
        Context.Unwatch(subscriber);
        foreach (var topic in topics)
        {
            var subscribers = _subscribers[topic];
            subscribers.Remove(subscriber);
            if (subscribers.Count == 0)
                _subscribers.Remove(topic);
        }

        Changed();
    }

    private bool Refused(string topic)
    {
        if (!string.IsNullOrEmpty(topic))
            return false;
        MessagingLog.RefusedTopic(_log, Sender.Path.ToString());
        Sender.Tell(new Status.Failure(new ArgumentException("A topic must not be empty.", nameof(topic))));
        return true;
    }

    private static string CallbackName(long id) => "callback-" + id.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
