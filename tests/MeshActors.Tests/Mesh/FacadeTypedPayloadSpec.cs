using System.Text.Json;
using System.Text.Json.Serialization;
using MeshActors.Discovery;
using MeshActors.Messaging;
using MeshActors.Testing;
using Xunit.Abstractions;

namespace MeshActors.Tests.Mesh;

/// <summary>An order and its receipt: the application's types, of which only the order is in <see cref="OrdersOnlyContext"/>.</summary>
internal sealed record PlacedOrder(string Item, int Count);

internal sealed record OrderReceipt(string Id);

/// <summary>A source-generated context, as a trimmed or Native AOT application gives its node, that lacks <see cref="OrderReceipt"/>.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PlacedOrder))]
internal sealed partial class OrdersOnlyContext : JsonSerializerContext;

/// <summary>
/// The <see cref="IMesh"/> facade's typed payloads against the node's <see cref="MeshOptions.Json"/>: a source-generated
/// context that lacks a type, and raw bytes read through a nullable <c>ReadOnlyMemory&lt;byte&gt;</c>, through real nodes
/// over real loopback HTTP/2 with the local registry.
/// </summary>
public sealed class FacadeTypedPayloadSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    private static JsonSerializerOptions OrdersOnly => new(JsonSerializerDefaults.Web) { TypeInfoResolver = OrdersOnlyContext.Default };

    /// <summary>
    /// A caller whose JSON options cannot read the response type can never use the answer, so the request must fail
    /// before it is sent, as asking for a <see cref="ServiceReply"/> does ("before the handler runs for nothing"):
    /// otherwise the provider places the order and the caller is told the call failed, and retries.
    /// </summary>
    [Fact]
    public async Task A_request_whose_response_type_the_callers_json_options_cannot_read_must_fail_before_the_provider_runs_it()
    {
        await using var caller = await StartWithJson("caller", OrdersOnly);
        var provider = await Start("provider");
        await WaitConnected(caller, provider);
        var placed = CreateTestProbe();
        await provider.AddService<PlacedOrder, OrderReceipt>("orders", (order, _, _) =>
        {
            placed.Ref.Tell(order.Item);
            return new ValueTask<OrderReceipt>(new OrderReceipt("r-1"));
        }).Ready;
        await AwaitConditionAsync(() => caller.MessagingLayer.Routes.Current.Service("orders") is not null, TestTimeouts.Default, message: "the caller to see the provider's service");

        var failure = await Record.ExceptionAsync(() => caller.RequestAsync<PlacedOrder, OrderReceipt>("orders", new PlacedOrder("apples", 12)));

        Assert.IsType<NotSupportedException>(failure); // the caller is told it failed...
        await placed.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300)); // ...so the order must not have been placed
    }

    /// <summary>
    /// The provider's side: a service whose response its node's JSON options cannot write is refused when it is hosted
    /// (its <see cref="MeshRegistration.Ready"/> faults), as a publish of such a value is refused before anything is
    /// sent: announced, it would run every request's handler only to answer <c>handler_error</c>.
    /// </summary>
    [Fact]
    public async Task A_service_whose_response_type_its_nodes_json_options_cannot_write_must_be_refused_when_hosted_not_run_for_every_request()
    {
        await using var provider = await StartWithJson("provider", OrdersOnly);
        var ran = CreateTestProbe();
        MeshRegistration? hosting = null;

        // Refused either way: AddService throwing, or its Ready faulting.
        var refused = await Record.ExceptionAsync(() => (hosting = provider.AddService<PlacedOrder, OrderReceipt>("orders", (order, _, _) =>
        {
            ran.Ref.Tell(order.Item);
            return new ValueTask<OrderReceipt>(new OrderReceipt("r-1"));
        })).Ready);
        try
        {
            if (refused is null)
            {
                // What hosting it anyway leads to: the handler runs, and its caller is told it failed.
                var call = await Record.ExceptionAsync(() => provider.RequestAsync<PlacedOrder, JsonElement>("orders", new PlacedOrder("pears", 3)));
                Output!.WriteLine($"handler ran for '{await ran.ExpectMsgAsync<string>()}', caller got {call?.GetType().Name}: {call?.Message}");
            }

            var notSupported = Assert.IsAssignableFrom<NotSupportedException>(refused);
            Assert.Contains(nameof(OrderReceipt), notSupported.Message);
        }
        finally
        {
            hosting?.Dispose();
        }
    }

    /// <summary>
    /// docs/messaging.md, Payloads: an answer of bytes travels as the attachment with <c>null</c> JSON, and "read as
    /// bytes" it gives the attachment. A nullable <c>ReadOnlyMemory&lt;byte&gt;</c> is bytes too: reading it as the JSON
    /// <c>null</c> silently loses them.
    /// </summary>
    [Fact]
    public async Task Bytes_read_as_a_nullable_ReadOnlyMemory_must_be_the_attachment_not_null()
    {
        var (caller, provider) = await StartConnected("caller", "provider");
        await provider.AddService<int, byte[]>("blob", (_, _, _) => new ValueTask<byte[]>(new byte[] { 1, 2, 3 })).Ready;
        await AwaitConditionAsync(() => caller.MessagingLayer.Routes.Current.Service("blob") is not null, TestTimeouts.Default, message: "the caller to see the provider's service");

        var asBytes = await caller.RequestAsync<int, ReadOnlyMemory<byte>>("blob", 1);
        var asNullable = await caller.RequestAsync<int, ReadOnlyMemory<byte>?>("blob", 1);

        Assert.Equal(new byte[] { 1, 2, 3 }, asBytes.ToArray());
        Assert.True(asNullable.HasValue, "the three bytes of the answer were read as null");
        Assert.Equal(new byte[] { 1, 2, 3 }, asNullable.Value.ToArray());
    }

    private Task<MeshNode> StartWithJson(string name, JsonSerializerOptions json) => MeshNode.StartAsync(new MeshOptions
    {
        NodeName = name,
        Json = json,
        Discovery = new DiscoveryOptions { Registry = RegistrySetting, KeyPrefix = Prefix, HeartbeatInterval = TimeSpan.FromMilliseconds(250), Ttl = TimeSpan.FromSeconds(2) },
        LoggerFactory = Log,
    });
}
