using System.Text.Json;
using MeshActors.Actors;
using MeshActors.Messaging;
using MeshActors.Tests.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Messaging;

/// <summary>One node's messaging layer on an actor system of its own (or the TestKit's), without transport: nodes meet through <see cref="LoopbackPeer"/>.</summary>
internal sealed class MessagingNode : IAsyncDisposable
{
    private static int s_lastNode;
    private readonly bool _ownsSystem;

    private MessagingNode(ActorSystem system, MeshMessaging messaging, bool ownsSystem)
    {
        System = system;
        Messaging = messaging;
        _ownsSystem = ownsSystem;
    }

    public ActorSystem System { get; }

    public MeshMessaging Messaging { get; }

    public string Id => Messaging.SelfId;

    public string Name => Messaging.SelfName;

    public static async Task<MessagingNode> StartAsync(string name, ITestOutputHelper output, ActorSystem? system = null, MessagingOptions? options = null)
    {
        var ownsSystem = system is null;
        system ??= ActorSystem.Create(name, new ActorSystemOptions { LoggerFactory = new TestLog(output) });
        // Nodes may share a system (a TestKit's, so its probes can be their subscribers): each gets a guardian of its own.
        var guardian = system.SystemActorOf(MeshGuardianActor.Props(), ownsSystem ? "mesh" : $"mesh-{name}-{Interlocked.Increment(ref s_lastNode)}");
        var messaging = await MeshMessaging.StartAsync(
            system, guardian, Guid.NewGuid().ToString(), name, options ?? new MessagingOptions(), JsonSerializerOptions.Web);
        return new MessagingNode(system, messaging, ownsSystem);
    }

    /// <summary>Waits until this node routes <paramref name="topic"/> to <paramref name="count"/> nodes (itself included).</summary>
    public Task WaitForTopicNodesAsync(string topic, int count) => WaitAsync(
        table => table.Topic(topic)?.Groups.Sum(group => group.Count) == count, $"{count} nodes on topic {topic}");

    /// <summary>Waits until this node knows <paramref name="count"/> providers of <paramref name="service"/>.</summary>
    public Task WaitForProvidersAsync(string service, int count) => WaitAsync(
        table => (table.Service(service)?.Providers.Count ?? 0) == count, $"{count} providers of {service}");

    public async ValueTask DisposeAsync()
    {
        if (_ownsSystem)
            await System.Terminate();
    }

    private async Task WaitAsync(Func<RoutingTable, bool> condition, string what)
    {
        if (!await Messaging.Routes.WaitAsync(condition, TestTimeouts.Default, CancellationToken.None))
            throw new TimeoutException($"Node {Name} never saw {what}.");
    }
}
