using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Protocol;
using Microsoft.Extensions.Logging;

namespace MeshActors;

/// <summary>One node of the mesh: an actor system with the node's messaging, peer and registry actors, behind the <see cref="IMesh"/> facade.</summary>
/// <remarks>
/// <c>await using var node = await MeshNode.StartAsync(options);</c> Or construct it (the actor system exists at once, so
/// application actors can be created) and call <see cref="StartAsync(CancellationToken)"/> later, as the hosting
/// integration does. Stopping is graceful: the node deregisters first, so that the others see it leave at once, then
/// answers what it was asked, says goodbye on every channel, and terminates its actor system (when it created it).
/// </remarks>
public sealed partial class MeshNode : IMesh
{
    private const int Created = 0, Starting = 1, Started = 2, Stopping = 3;

    private readonly MeshOptions _options;
    private readonly bool _ownsSystem;
    private readonly ILogger _log;
    private readonly PeerDirectory _directory = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _joined = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _registryRead; // 1 once a registry round succeeded: Joined completes when that and the start are done
    private int _state;
    private MeshMessaging? _messaging;
    private MeshMember? _self;
    private IRegistry? _registry;
    private IActorRef _guardian = ActorRefs.Nobody;
    private IActorRef _peers = ActorRefs.Nobody;
    private IActorRef _registryActor = ActorRefs.Nobody;
    private IDisposable? _membership;
    private IDisposable? _registryAvailability;
    private string? _registryFailure;
    private MeshMetrics? _metrics;

    /// <summary>Creates a node that is not started yet, on <paramref name="system"/> or on an actor system of its own (terminated when the node stops).</summary>
    /// <exception cref="ArgumentException">The options cannot work; the message lists every problem.</exception>
    public MeshNode(MeshOptions options, ActorSystem? system = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        Id = options.NodeId?.ToLowerInvariant() ?? Guid.NewGuid().ToString();
        _ownsSystem = system is null;
        System = system ?? ActorSystem.Create(SystemName(options.NodeName), new ActorSystemOptions { LoggerFactory = options.LoggerFactory });
        _log = System.LoggerFactory.CreateLogger<MeshNode>();
    }

    /// <summary>This node's id (a UUID v4), known before it starts.</summary>
    public string Id { get; }

    /// <inheritdoc />
    public ActorSystem System { get; }

    /// <inheritdoc />
    public MeshMember Self => Volatile.Read(ref _self) ?? throw NotStarted();

    /// <inheritdoc />
    public IActorRef TopicRouter => Messaging.TopicRouter;

    /// <inheritdoc />
    public IActorRef Services => Messaging.Services;

    /// <summary>The <c>PeerManagerActor</c> (<c>/system/mesh/peers</c>).</summary>
    public IActorRef Peers => IsStarted ? _peers : throw NotStarted();

    /// <summary>The <see cref="RegistryActor"/> (<c>/system/mesh/registry</c>).</summary>
    public IActorRef Registry => IsStarted ? _registryActor : throw NotStarted();

    /// <inheritdoc />
    public MessagingStats Stats => Messaging.Stats;

    /// <summary>The peer layer's counters summed over every peer and unary call, for tests and diagnostics.</summary>
    internal PeerStats PeerTotals => _directory.Totals;

    /// <summary>The connected and reconnecting peers, for diagnostics.</summary>
    public IReadOnlyList<PeerInfo> DescribePeers() => _directory.Describe();

    /// <summary>The messaging layer, for specs and benchmarks that look at routing.</summary>
    internal MeshMessaging MessagingLayer => Messaging;

    // Set once the start succeeded and cleared after the goodbye: handlers finishing their requests during a stop may
    // still publish and call.
    private MeshMessaging Messaging => Volatile.Read(ref _messaging) ?? throw NotStarted();

    /// <summary>Creates a node on an actor system of its own and starts it.</summary>
    public static Task<MeshNode> StartAsync(MeshOptions options, CancellationToken cancellationToken = default) => StartAsync(options, null, cancellationToken);

    /// <summary>Creates a node on <paramref name="system"/> (or on one of its own when null) and starts it.</summary>
    public static async Task<MeshNode> StartAsync(MeshOptions options, ActorSystem? system, CancellationToken cancellationToken = default)
    {
        var node = new MeshNode(options, system);
        await node.StartAsync(cancellationToken).ConfigureAwait(false);
        return node;
    }

    /// <summary>
    /// Starts the node: the messaging actors, the peer manager (its listener bound, so the real endpoint is known), then
    /// the registry actor, which registers this node and discovers the others; the peer manager dials them as they appear.
    /// </summary>
    /// <exception cref="InvalidOperationException">The node was already started or stopped.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, Starting, Created) != Created)
            throw new InvalidOperationException($"Mesh node {_options.NodeName} ({Id}) was already started.");
        try
        {
            _guardian = Guardian();
            var messaging = await MeshMessaging.StartAsync(System, _guardian, Id, _options.NodeName, _options.Messaging, _options.Json)
                .WaitAsync(cancellationToken).ConfigureAwait(false);
            _membership = System.EventStream.Subscribe<MemberEvent>(OnMemberEvent);
            _registryAvailability = System.EventStream.Subscribe<RegistryAvailabilityChanged>(changed =>
            {
                if (changed.NodeId != Id)
                    return;
                Volatile.Write(ref _registryFailure, changed.Available ? null : changed.Reason ?? "failing");
                // Not before the start is done: code awaiting Joined may use the node at once.
                if (changed.Available && Interlocked.Exchange(ref _registryRead, 1) == 0 && IsStarted)
                    _joined.TrySetResult();
            });
            _peers = await Spawn(PeerManagerActor.Props(
                Id, _options.NodeName, _options.Peers, _options.Protocol, _options.Transport, messaging, _directory, System.LoggerFactory), "peers", cancellationToken).ConfigureAwait(false);
            var endpoint = await _peers.Ask<PeerManagerActor.ListenEndpoint>(PeerManagerActor.GetListenEndpoint.Instance, cancellationToken: cancellationToken).ConfigureAwait(false);

            // Interest changes from here on reach the registration; the first registration carries the interest of now.
            messaging.InterestChanged += OnInterestChanged;
            var interest = messaging.Interest;
            _self = new MeshMember(Id, _options.NodeName, endpoint.Advertised.Host, endpoint.Advertised.Port)
            {
                ProtocolVersion = WireProtocol.Version,
                Topics = interest.Topics,
                Services = interest.Services,
                StartedAt = DateTimeOffset.UtcNow,
            };
            _registry = RegistryFactory.Create(_options.Discovery, System.LoggerFactory);
            _registryActor = await Spawn(RegistryActor.Props(_registry, _self, _options.Discovery), "registry", cancellationToken).ConfigureAwait(false);
            _metrics = new MeshMetrics(_options.NodeName, Id, _directory, messaging.Stats, () => _members.Count, OpenDictionaries, _options.MeterFactory);
            Volatile.Write(ref _messaging, messaging);
            // A full fence, as the registry round's side has: one of the two completes Joined. A stop that came during
            // the start owns the node: it stays stopped, and the start fails (the catch below waits for the stop).
            if (Interlocked.CompareExchange(ref _state, Started, Starting) != Starting)
            {
                Interlocked.CompareExchange(ref _messaging, null, messaging);
                throw new OperationCanceledException($"Mesh node {_options.NodeName} ({Id}) was stopped while it started.");
            }

            if (Volatile.Read(ref _registryRead) == 1)
                _joined.TrySetResult();
            MeshLog.Started(_log, _options.NodeName, Id, _self.Address, _registry.Description);
        }
        catch
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>True once <see cref="StopAsync"/> or <see cref="DisposeAsync"/> has begun: the node's actor system is ending on purpose.</summary>
    internal bool IsStopping => Volatile.Read(ref _state) == Stopping;

    /// <summary>
    /// Stops gracefully: deregisters (the others see the leave at once), lets requests in flight here be answered,
    /// says goodbye on every channel after its queue is written, then stops the node's actors. Until the goodbye the
    /// node still publishes and calls, so that handlers can finish their work.
    /// </summary>
    /// <remarks>
    /// Cancelling (e.g. the host's shutdown timeout) cuts the graceful part short, not the stop: the node's actors are
    /// still stopped (its actor system terminated, when it created it) and its registry closed, each bounded, before
    /// the call throws <see cref="OperationCanceledException"/>. A node that could not deregister expires within its TTL.
    /// </remarks>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        var previous = Interlocked.Exchange(ref _state, Stopping);
        if (previous == Stopping)
        {
            await _stopped.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        var cancelled = false;
        try
        {
            if (previous != Created)
                MeshLog.Stopping(_log, _options.NodeName, Id);

            // A start that failed halfway stops what it started. Saturated: options built without validation may hold anything.
            var deadline = TimeSpan.FromTicks(Math.Min(
                TimerLimit.Max.Ticks, _options.Peers.GoodbyeGrace.Ticks + Math.Min(_options.Discovery.CommandTimeout.Ticks, TimerLimit.Max.Ticks) + TimeSpan.TicksPerSecond * 5));
            try
            {
                await Step(_registryActor, "leave the registry", () => _registryActor.Ask<LeftMesh>(LeaveMesh.Instance, deadline, cancellationToken)).ConfigureAwait(false);
                if (Volatile.Read(ref _messaging) is { } messaging)
                    await Step(messaging.Services, "answer the requests in flight", () => messaging.Inbound.DrainAsync(_options.Peers.GoodbyeGrace, cancellationToken)).ConfigureAwait(false);
                // What was published or answered before the stop goes out before the goodbye, which drops what is still queued.
                await Step(_peers, "send what is queued", async () =>
                {
                    if (!await _directory.SendQueuedAsync(_options.Peers.GoodbyeGrace, cancellationToken).ConfigureAwait(false))
                        throw new TimeoutException($"peers did not take everything queued for them within {_options.Peers.GoodbyeGrace.TotalSeconds:0.#} s; the rest is dropped");
                }).ConfigureAwait(false);
                await Step(_peers, "say goodbye to the peers", () => _peers.Ask<PeerManagerActor.PeersStopped>(PeerManagerActor.StopPeers.Instance, deadline, cancellationToken)).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Whoever gave up waiting still expects the node gone: a later DisposeAsync finds it stopping and returns.
                cancelled = true;
                MeshLog.StopCancelled(_log, _options.NodeName, Id);
            }

            // Whoever waits for a subscriber or a provider hears that none will come.
            Interlocked.Exchange(ref _messaging, null)?.Routes.Close($"Mesh node {_options.NodeName} ({Id}) is stopped.");
            _membership?.Dispose();
            _members.Clear(); // a stopped node knows no members: it hears of none any more
            _registryAvailability?.Dispose();
            _metrics?.Dispose();
            if (_ownsSystem)
                await Step(null, "terminate the actor system", () => System.Terminate().WaitAsync(deadline)).ConfigureAwait(false);
            else
                await Step(_guardian, "stop the mesh actors", () => _guardian.GracefulStop(deadline)).ConfigureAwait(false);
            if (_registry is not null)
                await Step(null, "close the registry", () => _registry.DisposeAsync().AsTask().WaitAsync(deadline)).ConfigureAwait(false);
            if (previous != Created)
                MeshLog.Stopped(_log, _options.NodeName, Id);
        }
        finally
        {
            _joined.TrySetCanceled(); // stopped before it joined: nobody waits for that forever
            _stopped.TrySetResult();
        }

        if (cancelled)
            throw new OperationCanceledException($"Mesh node {_options.NodeName} ({Id}) stopped without finishing its graceful stop: it was cancelled.", cancellationToken);

        // A step for an actor runs only if the actor was created; a step without one always runs.
        async Task Step(IActorRef? actor, string what, Func<Task> step)
        {
            if (actor is not null && actor.Equals(ActorRefs.Nobody))
                return;
            try
            {
                await step().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                MeshLog.StopStepFailed(_log, what, ex.Message);
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private async Task<IActorRef> Spawn(Props props, string name, CancellationToken cancellationToken) =>
        await _guardian.Ask<IActorRef>(new MeshGuardianActor.Spawn(props, name), cancellationToken: cancellationToken).ConfigureAwait(false);

    private void OnInterestChanged(IReadOnlyList<string> topics, IReadOnlyList<string> services)
    {
        if (Volatile.Read(ref _self) is not { } self)
            return;
        var updated = self with { Topics = topics, Services = services };
        Volatile.Write(ref _self, updated);
        _registryActor.Tell(new UpdateSelf(updated), ActorRefs.NoSender);
    }

    /// <summary>True from the end of a successful start until the stop begins.</summary>
    internal bool IsStarted => Volatile.Read(ref _state) == Started;

    /// <summary>Whether the registry's backend is reachable (Disconnected until the first call reaches it), and which it is; null before the start. A reachable registry may still fail every call: see <see cref="RegistryAvailabilityChanged"/>.</summary>
    public (RegistryConnectionState State, string Description)? RegistryConnection =>
        _registry is { } registry ? (registry.ConnectionState, registry.Description) : null;

    /// <summary>Why the registry's calls are failing (e.g. Redis answers every call with an error, or is unreachable), or null while they succeed.</summary>
    public string? RegistryFailure => Volatile.Read(ref _registryFailure);

    private InvalidOperationException NotStarted() => new(
        Volatile.Read(ref _state) == Stopping
            ? $"Mesh node {_options.NodeName} ({Id}) is stopped."
            : $"Mesh node {_options.NodeName} ({Id}) is not started: call StartAsync first (the hosted service does it when the host starts).");

    // A node's actors live under /system/mesh, and each hears the system's member events as its own: one node per system.
    private IActorRef Guardian()
    {
        try
        {
            return System.SystemActorOf(MeshGuardianActor.Props(), "mesh");
        }
        catch (InvalidActorNameException ex)
        {
            throw new InvalidOperationException(
                $"Actor system '{System.Name}' already hosts a mesh node: give mesh node {_options.NodeName} an actor system of its own.", ex);
        }
    }

    private static string SystemName(string nodeName) =>
        new(nodeName.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-').ToArray());
}
