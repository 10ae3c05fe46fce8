using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Messaging;
using MeshActors.Peers;
using MeshActors.Tests.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Mesh;

using MeshActors.TestKit;

/// <summary>Real nodes over loopback HTTP/2 with the local registry, while peers go away under load.</summary>
public sealed class ChurnUnderLoadSpec(ITestOutputHelper output) : TestKit(output), IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "meshactors-churn-" + Guid.NewGuid().ToString("N"));
    private readonly string _prefix = "churn-" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<MeshNode> _owned = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await Task.WhenAll(_owned.Select(node => node.DisposeAsync().AsTask()));
        if (Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
    }

    private async Task<MeshNode> Start(string name)
    {
        var node = await MeshNode.StartAsync(new MeshOptions
        {
            NodeName = name,
            Discovery = new DiscoveryOptions { Registry = "local:" + _directory, KeyPrefix = _prefix, HeartbeatInterval = TimeSpan.FromMilliseconds(250), Ttl = TimeSpan.FromSeconds(2) },
            LoggerFactory = new TestLog(Output),
        });
        _owned.Add(node);

        return node;
    }

    private static bool Connected(MeshNode node, MeshNode other) => node.DescribePeers().Any(peer => peer.NodeId == other.Id && peer.IsConnected);

    // docs/messaging.md, Errors: "the provider's channel closed mid-request (it crashed or left) ... PeerUnavailableException
    // at once, not at the timeout". The peer layer fails the requests in flight when a channel drops
    // (MeshMessaging.OnPeerDisconnected), but callers route by the routing table, which drops the provider only once the
    // topic router has handled the disconnect from its mailbox. A router that is busy (actors' Publish messages, interest
    // and subscription changes all go through it) leaves a window in which a new request is still routed to the provider
    // whose transport is gone: it is queued for a peer nothing carries, nothing ever fails it, and its caller waits for the
    // whole timeout. The router's turn is held here by a message whose serialization waits for the test, which makes
    // the window as long as the test needs; under load it is as long as the router's backlog.
    [Fact]
    public async Task A_request_routed_to_a_provider_whose_transport_just_died_must_fail_at_once_not_at_its_timeout()
    {
        var caller = await Start("caller");
        var provider = await Start("provider");
        await provider.AddService<long, long>("work", (n, _, _) => ValueTask.FromResult(n)).Ready.WithTimeout();
        Assert.Equal(1, await caller.RequestAsync<long, long>("work", 1, new RequestOptions { WaitForProvider = TestTimeouts.Default }));

        // The caller's router is busy with a message from an application actor.
        using var entered = new ManualResetEventSlim();
        using var gate = new ManualResetEventSlim();
        caller.TopicRouter.Tell(new Publish("anything", new SlowToSerialize(entered, gate)), ActorRefs.NoSender);
        Assert.True(entered.Wait(TestTimeouts.Default), "the router took the message");
        try
        {
            // The provider's transport dies (as in a crash): the caller's peer layer sees its channel go.
            provider.Peers.Tell(Kill.Instance);
            await AwaitConditionAsync(() => !Connected(caller, provider), TestTimeouts.Default, message: "the caller saw the provider's channel close");

            var timeout = TimeSpan.FromSeconds(4);
            var started = System.Diagnostics.Stopwatch.StartNew();
            var call = caller.RequestAsync<long, long>("work", 2, new RequestOptions { Timeout = timeout });
            await AwaitConditionAsync(
                () => call.IsCompleted || caller.DescribePeers().Single(peer => peer.NodeId == provider.Id).QueuedBytes > 0,
                TestTimeouts.Default, message: "the request is queued or answered");
            gate.Set(); // the router goes on, and drops the provider from the routes
            var failure = await Record.ExceptionAsync(() => call.WaitAsync(timeout + TestTimeouts.Default));
            started.Stop();

            Assert.True(
                failure is PeerUnavailableException or NoServiceProviderException,
                $"the request to a provider whose channel had closed ended after {started.ElapsedMilliseconds} ms with {failure?.GetType().Name ?? "no exception"}: {failure?.Message} "
                + $"(the caller's queue to it still holds {caller.DescribePeers().Single(peer => peer.NodeId == provider.Id).QueuedBytes} bytes; requests pending: {caller.MessagingLayer.Correlator.Count})");
            Assert.True(started.Elapsed < timeout / 2, $"failed after {started.ElapsedMilliseconds} ms, not at once");
        }
        finally
        {
            gate.Set();
        }
    }

    /// <summary>A message whose serialization, on the router's turn, waits until the test lets it go.</summary>
    private sealed class SlowToSerialize(ManualResetEventSlim entered, ManualResetEventSlim gate)
    {
        public int Value
        {
            get
            {
                entered.Set();
                gate.Wait(TimeSpan.FromSeconds(30));
                return 1;
            }
        }
    }
}
