using System.Net;
using MeshActors.Discovery;
using MeshActors.Messaging;
using MeshActors.Protocol;
using MeshActors.Tests.Peers;
using MeshActors.Tests.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Messaging;

using MeshActors.TestKit;

/// <summary>What a callback subscription does with what arrives: callbacks that are cut off, payloads it cannot read.</summary>
public sealed class InboundDeliverySpec(ITestOutputHelper output) : TestKit(output), IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "meshactors-inbound-" + Guid.NewGuid().ToString("N"));

    public Task InitializeAsync() => Task.CompletedTask;

    Task IAsyncLifetime.DisposeAsync()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_callback_that_is_awaiting_when_its_subscription_is_disposed_must_still_run_to_its_end()
    {
        // On the TestKit's system, so that the test can watch the subscription's actor stop.
        await using var node = await MeshNode.StartAsync(Options("worker"), Sys);
        using var inUse = new SemaphoreSlim(1, 1);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var io = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscription = node.Subscribe<int>("jobs", async (_, _) =>
        {
            // An ordinary async callback: it takes a lock, does some I/O, and always gives the lock back.
            await inUse.WaitAsync();
            try
            {
                entered.TrySetResult();
                await io.Task;
            }
            finally
            {
                inUse.Release();
            }
        });
        var callbackActor = (await ((Task<SubscribeAck>)subscription.Ready).WithTimeout()).Subscribe.Subscriber;
        Watch(callbackActor);

        await node.PublishAsync("jobs", 1);
        await entered.Task.WithTimeout();

        // Disposed while the callback is in the middle of its work: no new message may reach it, but the one it is
        // running is plain application code, whose awaits and finally blocks must not be dropped.
        subscription.Dispose();
        await ExpectTerminatedAsync(callbackActor);
        io.SetResult();

        Assert.True(
            await inUse.WaitAsync(TestTimeouts.Default),
            "the callback never got past its await once its subscription was disposed: its finally block never ran and the lock it held is held forever");
    }

    [Fact]
    public async Task A_byte_array_subscriber_must_not_be_handed_an_empty_array_for_a_message_whose_bytes_came_as_json()
    {
        await using var node = await MeshNode.StartAsync(Options("receiver"));
        var received = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        await node.Subscribe<byte[]>("frames", (bytes, _) =>
        {
            received.TrySetResult(bytes);
            return default;
        }).Ready.WithTimeout();

        // A v1 peer publishes bytes as JSON (base64, what System.Text.Json itself writes for a byte[]): it sends no
        // attachment, as a peer without the bin capability never gets or sends one.
        await using var peer = await HandDrivenChannel.DialAsync(new DnsEndPoint(node.Self.Host, node.Self.Port));
        await peer.HandshakeAsync("json-peer");
        await peer.WriteAsync(new Envelope.Pub("frames", "\"AQID\""u8.ToArray()));

        await AwaitConditionAsync(
            () => received.Task.IsCompleted || node.Stats.SubscriberFailures > 0, TestTimeouts.Default, message: "the message to be delivered or refused");

        // Either the bytes it carries, or a failure to read it (logged and counted): never a silent empty array.
        if (received.Task.IsCompleted)
            Assert.Equal(new byte[] { 1, 2, 3 }, await received.Task);
        else
            Assert.Equal(1, node.Stats.SubscriberFailures);
    }

    private MeshOptions Options(string name) => new()
    {
        NodeName = name,
        Discovery = new DiscoveryOptions { Registry = "local:" + _root },
        LoggerFactory = new TestLog(Output!),
    };
}
