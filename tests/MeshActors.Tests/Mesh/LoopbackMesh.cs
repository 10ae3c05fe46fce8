using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Replication;
using MeshActors.Tests.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Mesh;

using MeshActors.TestKit;

/// <summary>Real nodes over real HTTP/2 on loopback, sharing one registry: the fixture of the replication and service specs.</summary>
public abstract class LoopbackMesh(ITestOutputHelper output) : TestKit(output), IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "meshactors-mesh-" + Guid.NewGuid().ToString("N"));

    /// <summary>The <see cref="DiscoveryOptions.Registry"/> setting the nodes share: by default a local registry in a directory of the test's own.</summary>
    protected virtual string RegistrySetting => "local:" + _directory;

    /// <summary>Keeps tests apart in a shared registry; a node started with another prefix is in a mesh of its own.</summary>
    protected string Prefix { get; } = "repl-" + Guid.NewGuid().ToString("N")[..8];

    private protected TestLog Log { get; } = new(output);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
            await _owned[i].DisposeAsync();
        if (Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
    }

    protected async Task<MeshNode> Start(string name, string? prefix = null, MessagingOptions? messaging = null, ActorSystem? system = null, ProtocolOptions? protocol = null, PeerOptions? peers = null)
    {
        var node = await MeshNode.StartAsync(
            new MeshOptions
            {
                NodeName = name,
                Discovery = new DiscoveryOptions { Registry = RegistrySetting, KeyPrefix = prefix ?? Prefix, HeartbeatInterval = TimeSpan.FromMilliseconds(250), Ttl = TimeSpan.FromSeconds(2) },
                Messaging = messaging ?? new MessagingOptions(),
                Protocol = protocol ?? new ProtocolOptions(),
                Peers = peers ?? new PeerOptions(),
                LoggerFactory = Log,
            },
            system);
        _owned.Add(node);
        return node;
    }

    /// <summary>
    /// Stops <paramref name="reader"/> reading its channel from <paramref name="sender"/>, until the returned source is
    /// set: a callback subscriber on <paramref name="topic"/> that does not return holds the channel back once its
    /// backlog is full (docs/messaging.md). The reader must run with a <see cref="MessagingOptions.SubscriberBacklogLimit"/> of 2.
    /// </summary>
    protected async Task<TaskCompletionSource> HoldChannel(MeshNode sender, MeshNode reader, string topic = "gate")
    {
        var gate = new TaskCompletionSource();
        await reader.Subscribe<int>(topic, async (_, _) => await gate.Task).Ready;
        await sender.WaitForSubscriberAsync(topic, TestTimeouts.Default);
        for (var i = 0; i < 4; i++)
            await sender.PublishAsync(topic, i);
        await AwaitConditionAsync(() => reader.Stats.SubscribersBehind >= 1, TestTimeouts.Default, message: $"{reader.Self.Name}'s channel from {sender.Self.Name} held");
        return gate;
    }

    /// <summary>Resets <paramref name="node"/>'s channels to <paramref name="peer"/>, as a network failure would, and waits until it saw the peer's last channel go.</summary>
    protected void ResetChannels(MeshNode node, MeshNode peer)
    {
        var left = CreateTestProbe();
        node.System.EventStream.Subscribe<PeerDisconnected>(left.Ref);
        node.Peers.Tell(new PeerManagerActor.ResetChannels(peer.Id));
        left.ExpectMsg<PeerDisconnected>(disconnected => disconnected.NodeId == peer.Id);
    }

    protected async Task<ReplicatedDictionary<T>> Open<T>(MeshNode node, string name, ReplicatedDictionaryOptions<T>? options = null)
    {
        var dictionary = await node.OpenDictionaryAsync(name, options);
        _owned.Add(dictionary);
        return dictionary;
    }

    /// <summary>Two nodes, once each has a channel to the other.</summary>
    protected async Task<(MeshNode, MeshNode)> StartConnected(string first, string second)
    {
        var (a, b) = (await Start(first), await Start(second));
        await WaitConnected(a, b);
        return (a, b);
    }

    /// <summary>Three nodes, once each has a channel to both others.</summary>
    protected async Task<(MeshNode, MeshNode, MeshNode)> StartConnected(string first, string second, string third)
    {
        var (a, b, c) = (await Start(first), await Start(second), await Start(third));
        await WaitConnected(a, b, c);
        return (a, b, c);
    }

    protected Task WaitConnected(params MeshNode[] nodes) => AwaitConditionAsync(
        () => nodes.All(node => nodes.Where(other => other != node).All(other => Connected(node, other))),
        TestTimeouts.Default,
        message: "every node connected to every other");

    protected static bool Connected(MeshNode node, MeshNode other) => node.DescribePeers().Any(peer => peer.NodeId == other.Id && peer.IsConnected);

    /// <summary>
    /// Holds <paramref name="to"/>'s channel from <paramref name="from"/> (a callback subscriber on <c>gate</c> that does
    /// not return stops it reading), then fills <paramref name="from"/>'s queue to it until the channel stalls: what
    /// goes to <paramref name="to"/> next waits for room. The returned release opens the gate and waits for the filler.
    /// </summary>
    protected async Task<Func<Task>> StallQueue(MeshNode from, MeshNode to)
    {
        var gate = new TaskCompletionSource();
        await to.Subscribe<string>("gate", async (_, _) => await gate.Task).Ready;
        await from.WaitForSubscriberAsync("gate", TestTimeouts.Default);
        var filler = new string('x', 512 * 1024);
        var filling = Enumerable.Range(0, 64).Select(_ => from.PublishAsync("gate", filler).AsTask()).ToList();
        await WaitStalled(from, to, 64 * 1024);
        return async () =>
        {
            gate.TrySetResult();
            await Task.WhenAll(filling);
        };
    }

    /// <summary>
    /// Waits until <paramref name="from"/>'s queue to <paramref name="to"/> holds more than <paramref name="bytes"/> and its
    /// channel has stalled (nothing more sent between two looks): backed up is not enough, since while the channel still
    /// drains into the receiver's flow-control window the queue can dip below a threshold and let a send through.
    /// </summary>
    protected Task WaitStalled(MeshNode from, MeshNode to, long bytes)
    {
        var sent = -1L;
        return AwaitConditionAsync(() =>
        {
            var peer = from.DescribePeers().Single(peer => peer.NodeId == to.Id);
            var stalled = peer.Stats.BytesSent == sent;
            sent = peer.Stats.BytesSent;
            return stalled && peer.QueuedBytes > bytes;
        }, TestTimeouts.Default, interval: TimeSpan.FromMilliseconds(100), message: $"{from.Self.Name}'s queue to {to.Self.Name} backed up and stalled");
    }

    /// <summary>Waits until <paramref name="node"/> knows <paramref name="count"/> providers of <paramref name="service"/>, itself included.</summary>
    protected Task WaitForProviders(MeshNode node, string service, int count) => AwaitConditionAsync(
        () => node.MessagingLayer.Routes.Current.Service(service)?.Providers.Count == count, TestTimeouts.Default, message: $"{count} providers of {service}");

    /// <summary>Waits until <paramref name="node"/> routes the dictionary's topic to <paramref name="replicas"/> other nodes.</summary>
    protected Task WaitForReplicas(MeshNode node, string dictionary, int replicas) => AwaitConditionAsync(
        () => (node.MessagingLayer.Routes.Current.Topic("$dict/" + dictionary)?.Groups.Sum(group => group.Count(candidate => !candidate.IsLocal)) ?? 0) == replicas,
        TestTimeouts.Default,
        message: $"{node.Self.Name} to see {replicas} other replicas of {dictionary}");

    protected Task WaitFor<T>(ReplicatedDictionary<T> dictionary, string key, T value) => AwaitConditionAsync(
        () => dictionary.TryGetValue(key, out var seen) && EqualityComparer<T>.Default.Equals(seen, value),
        TestTimeouts.Default,
        message: $"{key} = {value} in {dictionary}");

    protected Task WaitForAbsent<T>(ReplicatedDictionary<T> dictionary, string key) => AwaitConditionAsync(
        () => !dictionary.ContainsKey(key), TestTimeouts.Default, message: $"{key} removed from {dictionary}");
}
