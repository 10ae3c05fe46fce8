using System.Net;
using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Peers;
using MeshActors.Protocol;
using MeshActors.Tests.Transport;
using MeshActors.Transport;
using Xunit.Abstractions;
using static MeshActors.TestKit.Conditions;

namespace MeshActors.Tests.Peers;

/// <summary>One mesh node's peer layer for tests: its own actor system, a <see cref="PeerManagerActor"/> listening on 127.0.0.1, and a <see cref="RecordingHandler"/>.</summary>
internal sealed class TestNode : IAsyncDisposable
{
    private bool _stopped;

    private TestNode(string id, string name, ActorSystem system, IActorRef manager, PeerDirectory directory, RecordingHandler handler, TestLog log, DnsEndPoint address)
    {
        Id = id;
        Name = name;
        System = system;
        Manager = manager;
        Directory = directory;
        Handler = handler;
        Log = log;
        Address = address;
    }

    public string Id { get; }

    public string Name { get; }

    public ActorSystem System { get; }

    public IActorRef Manager { get; }

    public PeerDirectory Directory { get; }

    public RecordingHandler Handler { get; }

    public TestLog Log { get; }

    public DnsEndPoint Address { get; }

    /// <summary>How discovery would describe this node.</summary>
    public MeshMember Member => new(Id, Name, Address.Host, Address.Port) { ProtocolVersion = WireProtocol.Version };

    public static async Task<TestNode> StartAsync(
        ITestOutputHelper output, string name, PeerOptions? options = null, string? id = null, int port = 0, ProtocolOptions? protocol = null)
    {
        id ??= $"{name}-{Guid.NewGuid():N}";
        var log = new TestLog(output);
        var system = ActorSystem.Create(name, new ActorSystemOptions { LoggerFactory = log });
        var handler = new RecordingHandler();
        var directory = new PeerDirectory();
        var manager = system.SystemActorOf(
            PeerManagerActor.Props(id, name, options ?? new PeerOptions(), protocol ?? new ProtocolOptions(), new TransportOptions { ListenPort = port }, handler, directory, log),
            "peers");
        var endpoint = await manager.Ask<PeerManagerActor.ListenEndpoint>(PeerManagerActor.GetListenEndpoint.Instance).WithTimeout();
        return new TestNode(id, name, system, manager, directory, handler, log, endpoint.Advertised);
    }

    /// <summary>Tells this node to dial <paramref name="other"/> (<c>ConnectPeer</c>).</summary>
    public void Dial(TestNode other) => Dial(other.Address);

    public void Dial(DnsEndPoint address) => Manager.Tell(new PeerManagerActor.ConnectPeer(address.Host, address.Port), ActorRefs.NoSender);

    /// <summary>Makes this node's discovery announce <paramref name="other"/> (<c>MemberUp</c> on its EventStream).</summary>
    public void See(TestNode other) => System.EventStream.Publish(new MemberUp(other.Member));

    /// <summary>Sends this node's peer events and its handler's news to <paramref name="probe"/>.</summary>
    public void Report(IActorRef probe)
    {
        Handler.Probe = probe;
        System.EventStream.Subscribe<PeerConnected>(e => probe.Tell(e, ActorRefs.NoSender));
        System.EventStream.Subscribe<PeerDisconnected>(e => probe.Tell(e, ActorRefs.NoSender));
    }

    /// <summary>Waits until <paramref name="other"/> is a connected peer of this node.</summary>
    public async Task<IPeer> ConnectedPeerAsync(TestNode other) => await ConnectedPeerAsync(other.Id);

    public async Task<IPeer> ConnectedPeerAsync(string nodeId)
    {
        IPeer? peer = null;
        await AwaitConditionAsync(() => Directory.TryGet(nodeId, out peer) && peer.IsConnected, TestTimeouts.Default, message: $"{Name} never connected to {nodeId}");
        return peer!;
    }

    /// <summary>Stops the peer layer in order (goodbye, listener stopped) and then the actor system.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await Manager.Ask<PeerManagerActor.PeersStopped>(PeerManagerActor.StopPeers.Instance, TestTimeouts.Default).WithTimeout();
        await System.Terminate().WithTimeout();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await System.Terminate().WithTimeout();
        }
    }
}
