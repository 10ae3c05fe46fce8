using System.Text;
using MeshActors.Actors;

namespace MeshActors.Messaging;

/// <summary>
/// The parent of this node's <see cref="ServiceActor"/>s (<c>/system/mesh/services/*</c>), and where actors send
/// <see cref="HostService"/>, <see cref="StopService"/> and <see cref="Request"/>.
/// </summary>
/// <remarks>
/// It also answers the requests a stopped service actor never took (they become dead letters) with <c>unavailable</c>:
/// the provider provably did not run them, so their callers try another provider at once instead of timing out.
/// </remarks>
internal sealed class ServicesActor : ReceiveActor
{
    private readonly MeshMessaging _messaging;
    private readonly Dictionary<string, Hosted> _hosted = new(StringComparer.Ordinal);
    private long _lastRegistration;

    public ServicesActor(MeshMessaging messaging)
    {
        _messaging = messaging;
        Receive<HostService>(host =>
        {
            if (host.Handler is null)
                Sender.Tell(new Status.Failure(new ArgumentNullException(nameof(host.Handler), "A HostService message needs a handler actor.")));
            else
                Host(host.Service, ActorHandler(host.Handler), host.Registration, host.Handler);
        });
        Receive<HostHandler>(host => Host(host.Service, host.Handler, host.Registration, handlerActor: null));
        Receive<StopService>(stop => Stop(stop.Service, registration: 0));
        Receive<Unhost>(unhost => Stop(unhost.Service, unhost.Registration));
        Receive<Request>(OnRequest);
        Receive<Terminated>(OnTerminated);
        Receive<DeadLetter>(dead =>
        {
            // The event stream is the actor system's, which other nodes may share: only this node's service actors are its own.
            if (dead.Message is InboundRequest request && Self.Path.Equals(dead.Recipient.Path.Parent))
                _messaging.Unavailable(request);
        });
    }

    protected override void PreStart() => Context.System.EventStream.Subscribe<DeadLetter>(Self);

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    public static Props Props(MeshMessaging messaging) => Actors.Props.Create(() => new ServicesActor(messaging));

    /// <summary>Hosts a service with a handler delegate; <paramref name="Registration"/> lets only its own handle withdraw it.</summary>
    public sealed record HostHandler(string Service, ServiceHandler Handler, long Registration);

    /// <summary>Withdraws the service if it is still the one hosted under <paramref name="Registration"/>.</summary>
    public sealed record Unhost(string Service, long Registration);

    private void Host(string service, ServiceHandler handler, long registration, IActorRef? handlerActor)
    {
        try
        {
            MeshMessaging.ValidateName(service, "service name", nameof(service)); // as AddService refuses it
        }
        catch (ArgumentException ex)
        {
            Sender.Tell(new Status.Failure(ex));
            return;
        }

        if (_hosted.ContainsKey(service))
        {
            Sender.Tell(new Status.Failure(new InvalidOperationException($"Service '{service}' is already hosted on this node.")));
            return;
        }

        // A name freed by a stop stays reserved until that actor is gone, so each incarnation gets a name of its own.
        var actor = Context.ActorOf(ServiceActor.Props(handler, _messaging), $"{ActorName(service)}-{++_lastRegistration}");
        _hosted[service] = new Hosted(actor, registration, handlerActor);
        if (handlerActor is not null)
            Context.Watch(handlerActor);
        _messaging.TopicRouter.Tell(new TopicRouterActor.RegisterService(service, actor, Sender));
    }

    private void Stop(string service, long registration)
    {
        if (!_hosted.TryGetValue(service, out var hosted) || (registration != 0 && hosted.Registration != registration))
            return;
        _hosted.Remove(service);
        // One watch per actor, however many services it handles: it stays while any of them does.
        if (hosted.HandlerActor is { } handler && !_hosted.Values.Any(other => handler.Equals(other.HandlerActor)))
            Context.Unwatch(handler);
        Context.Stop(hosted.Actor); // the router watches it and withdraws the service
    }

    private void OnTerminated(Terminated terminated)
    {
        // A handler actor stopped: every service it handled goes with it.
        foreach (var (service, _) in _hosted.Where(hosted => terminated.ActorRef.Equals(hosted.Value.HandlerActor)).ToList())
            Stop(service, registration: 0);
    }

    private void OnRequest(Request request)
    {
        ReadOnlyMemory<byte> data, attachment;
        try
        {
            MeshMessaging.ValidateName(request.Service, "service name", nameof(request.Service));
            (data, attachment) = Payload.Encode(request.Message, request.Attachment, "request", _messaging.Json);
        }
        catch (Exception ex)
        {
            Sender.Tell(new Status.Failure(ex)); // what RequestAsync would throw; the asker is not left to its timeout
            return;
        }

        _messaging.RequestAsync<ServiceResponse>(request.Service, data, attachment, request.Options, CancellationToken.None).PipeTo(Sender);
    }

    private ServiceHandler ActorHandler(IActorRef handler) => async request =>
    {
        // As long as the caller waits: when its timeout travels with the request, the request's token ends the ask as
        // the caller gives up (the deadline sweep answers it err timeout, as for any handler), and the ask's own timer,
        // a second later, only bounds it should the token never fire. Without one, this node's default for its calls.
        object reply;
        try
        {
            var timeout = request.Timeout is { } deadline ? deadline + TimeSpan.FromSeconds(1) : _messaging.Options.RequestTimeout;
            reply = await handler.Ask<object>(request, timeout, request.CancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ActorTerminatedException { UndeliveredMessage: var lost } && ReferenceEquals(lost, request)
                                   || ex is MailboxOverflowException { UndeliveredMessage: var refused } && ReferenceEquals(refused, request))
        {
            // The question itself became a dead letter (the actor stopped, or its bounded mailbox is full): it never
            // ran the request, so another provider may. The same exception as the handler's own answer (a
            // Status.Failure from an ask of its that failed so) comes after it took the request: a failure like any other.
            throw new RequestNotTakenException(ex.Message);
        }

        var (data, attachment) = Payload.Encode(reply, _messaging.Json);
        return new EncodedReply(data, attachment);
    };

    // Actor names exclude '/', '#', '?', '%', whitespace and a leading '$'; service names may contain anything.
    private static string ActorName(string service)
    {
        var name = new StringBuilder(service.Length);
        foreach (var c in service)
            name.Append(c is '/' or '#' or '?' or '%' or '$' || char.IsWhiteSpace(c) || char.IsControl(c) ? '_' : c);
        return name.ToString();
    }

    private sealed record Hosted(IActorRef Actor, long Registration, IActorRef? HandlerActor);
}
