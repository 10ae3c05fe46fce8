using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using MeshActors.Actors;
using MeshActors.Peers;
using MeshActors.Protocol;
using Microsoft.Extensions.Logging;

namespace MeshActors.Messaging;

/// <summary>
/// The messaging layer of one node: topics and services over the peers' channels. Owns the topic router and the
/// services actor, the routing snapshot they publish, and the tables of requests in flight both ways; the peer layer
/// hands it every envelope (<see cref="Peers.IPeerEnvelopeHandler"/>), and the <see cref="IMesh"/> facade calls it.
/// </summary>
/// <remarks>
/// Hot paths run on the caller's thread or the channel's read loop and read the current <see cref="RoutingTable"/>
/// without locks; only changes (subscriptions, services, peers' interest) go through the router's mailbox.
/// </remarks>
internal sealed partial class MeshMessaging
{
    /// <summary>The built-in service every node answers at once, for <see cref="IMesh.PingAsync"/>; never announced.</summary>
    public const string PingService = "$ping";

    /// <summary>Refused attachments already logged, by peer and topic or service: a stream of them makes one warning each (up to a bound).</summary>
    private readonly ConcurrentDictionary<(string NodeId, string What), byte> _refusedAttachments = new();
    private readonly Deadlines _deadlines = new();
    private long _lastRegistration;
    private Envelope.Interest _interest = new(0, [], []);
    private SubscriberBacklog[] _localBacklogs = [];

    private MeshMessaging(ActorSystem system, string selfId, string selfName, MessagingOptions options, JsonSerializerOptions json)
    {
        System = system;
        SelfId = selfId;
        SelfName = selfName;
        Options = options;
        Json = json;
        LocalCandidate = new RouteCandidate(selfId, selfName, peer: null);
        LocalTopicCandidate = new RouteCandidate(selfId, selfName, peer: null, queuedHere: LocalBacklogBytes, requestsOf: LocalCandidate);
        Correlator = new RequestCorrelator(Stats);
        Log = system.LoggerFactory.CreateLogger<MeshMessaging>();
    }

    /// <summary>Raised on the router's thread when this node's topics or services change (after they are announced): hand the value on, do not block.</summary>
    public event Action<IReadOnlyList<string>, IReadOnlyList<string>>? InterestChanged;

    public ActorSystem System { get; }

    public string SelfId { get; }

    public string SelfName { get; }

    public MessagingOptions Options { get; }

    public JsonSerializerOptions Json { get; }

    public MessagingStats Stats { get; } = new();

    public Routes Routes { get; } = new();

    public RequestCorrelator Correlator { get; }

    public InboundRequests Inbound { get; } = new(static request => request.Peer?.TrySendOwed(new Envelope.Err(
        ErrorCodes.Timeout, $"Request {request.Req.Id} for service '{request.Req.Service}' was not answered within its {request.Req.Timeout!.Value.TotalMilliseconds:0} ms.") { Id = request.Req.Id }));

    /// <summary>This node as a routing candidate.</summary>
    public RouteCandidate LocalCandidate { get; }

    /// <summary>This node as a member of its topic groups: its load is what waits for its callback subscribers, which a request to a local provider never waits for.</summary>
    public RouteCandidate LocalTopicCandidate { get; }

    /// <summary>The <see cref="TopicRouterActor"/> (<c>/system/mesh/topics</c>).</summary>
    public IActorRef TopicRouter { get; private set; } = ActorRefs.Nobody;

    /// <summary>The <see cref="ServicesActor"/> (<c>/system/mesh/services</c>).</summary>
    public IActorRef Services { get; private set; } = ActorRefs.Nobody;

    /// <summary>The topics and services this node announced last.</summary>
    public Envelope.Interest Interest => Volatile.Read(ref _interest);

    private ILogger Log { get; }

    /// <summary>Creates the topic router and the services actor under <paramref name="guardian"/>, a <see cref="MeshGuardianActor"/>.</summary>
    public static async Task<MeshMessaging> StartAsync(
        ActorSystem system, IActorRef guardian, string selfId, string selfName, MessagingOptions options, JsonSerializerOptions json)
    {
        options.Validate();
        var messaging = new MeshMessaging(system, selfId, selfName, options, json);
        messaging.TopicRouter = await guardian.Ask<IActorRef>(new MeshGuardianActor.Spawn(TopicRouterActor.Props(messaging), "topics")).ConfigureAwait(false);
        messaging.Services = await guardian.Ask<IActorRef>(new MeshGuardianActor.Spawn(ServicesActor.Props(messaging), "services")).ConfigureAwait(false);
        return messaging;
    }

    /// <summary>Called by the router once it announced a new interest.</summary>
    internal void OnInterestChanged(Envelope.Interest interest)
    {
        Volatile.Write(ref _interest, interest);
        InterestChanged?.Invoke(interest.Topics, interest.Services);
    }

    private long NextRegistration() => Interlocked.Increment(ref _lastRegistration);

    /// <summary>The router's callback subscriptions now: what waits for them is this node's load as a topic group member.</summary>
    internal void OnLocalBacklogsChanged(SubscriberBacklog[] backlogs) => Volatile.Write(ref _localBacklogs, backlogs);

    // Summed when a balancer asks (least-outstanding), not counted on every message: the hot path stays as it is.
    private long LocalBacklogBytes()
    {
        long bytes = 0;
        foreach (var backlog in Volatile.Read(ref _localBacklogs))
            bytes = Math.Min(SubscriberBacklog.Full, bytes + backlog.Load); // each at most Full: the sum cannot wrap
        return bytes;
    }

    internal static void ValidateName(string name, string what, string paramName)
    {
        if (string.IsNullOrEmpty(name))
            throw new ArgumentException($"A {what} must not be empty.", paramName);
        // UTF-8 cannot carry a lone surrogate: the JSON writer would send U+FFFD in its place, a name nobody uses.
        if (name.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF') && !IsWellFormed(name))
            throw new ArgumentException($"A {what} must be well-formed UTF-16: '{name}' holds a lone surrogate, which UTF-8 on the wire cannot carry.", paramName);
    }

    private static bool IsWellFormed(string text)
    {
        for (var rest = text.AsSpan(); !rest.IsEmpty; )
        {
            if (Rune.DecodeFromUtf16(rest, out _, out var read) != OperationStatus.Done)
                return false;
            rest = rest[read..];
        }

        return true;
    }

    /// <summary>Counts an attachment not sent to <paramref name="peer"/>, which lacks the <c>bin</c> capability; logs the first for each topic or service.</summary>
    private void RefuseAttachment(IPeer peer, string what, int bytes)
    {
        const int MaxLogged = 1024;
        Stats.OnDroppedAttachment();
        if (_refusedAttachments.Count < MaxLogged && _refusedAttachments.TryAdd((peer.NodeId, what), 0))
            MessagingLog.AttachmentRefused(Log, peer.NodeId, what, bytes);
    }
}
