using System.Text.Json;
using MeshActors.Messaging;
using MeshActors.Testing;
using Xunit.Abstractions;

namespace MeshActors.Tests.Mesh;

/// <summary>
/// The <see cref="IMesh"/> facade's raw <see cref="JsonElement"/> and binary payloads, and the wait for a subscriber,
/// through real nodes over real loopback HTTP/2 with the local registry.
/// </summary>
public sealed class FacadePayloadSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    // What System.Text.Json reads when asked to (a configuration file with comments, JsonSerializerOptions with
    // ReadCommentHandling = Skip and AllowTrailingCommas): a JsonElement keeps the text it was read from.
    private static JsonElement Lenient(string json) =>
        JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }).RootElement;

    /// <summary>
    /// docs/messaging.md, Payloads: "JsonElement travels as is", as strict JSON (docs/protocol.md 4.1): a comment or a
    /// trailing comma the element was read with stays off the wire, or the receiving node would refuse the frame as
    /// <c>bad_json</c> and lose the message.
    /// </summary>
    [Fact]
    public async Task A_published_JsonElement_read_with_a_comment_must_reach_remote_subscribers_not_be_dropped_as_bad_json()
    {
        var (a, b) = await StartConnected("a", "b");
        var atB = CreateTestProbe();
        await b.Subscribe<JsonElement>("config", (element, _) =>
        {
            atB.Ref.Tell(element.GetProperty("v").GetInt32());
            return default;
        }).Ready;
        await a.WaitForSubscriberAsync("config", TestTimeouts.Default);

        await a.PublishAsync("config", Lenient("""{"v":1 /* the first */, }"""));
        await a.PublishAsync("config", JsonElement.Parse("""{"v":2}"""));

        // Ordered per sender: the first message b gets is the first one a published.
        Assert.Equal(1, await atB.ExpectMsgAsync<int>());
        Assert.Equal(2, await atB.ExpectMsgAsync<int>());
    }

    /// <summary>
    /// docs/protocol.md 4.1: a value as deep as System.Text.Json writes by default (64 levels) travels in its envelope;
    /// a receiver that counted the envelope against those 64 refused it as <c>bad_json</c>, losing the message.
    /// </summary>
    [Fact]
    public async Task A_value_nested_as_deep_as_the_serializer_writes_must_reach_remote_subscribers()
    {
        var (a, b) = await StartConnected("a", "b");
        var atB = CreateTestProbe();
        await b.Subscribe<JsonElement>("deep", (element, _) =>
        {
            atB.Ref.Tell(element.GetArrayLength());
            return default;
        }).Ready;
        await a.WaitForSubscriberAsync("deep", TestTimeouts.Default);
        var deepest = JsonElement.Parse(new string('[', 63) + "1" + new string(']', 63));
        Assert.Equal(64, Depth(JsonSerializer.SerializeToElement(new[] { deepest })));

        await a.PublishAsync("deep", new[] { deepest }); // a typed value, serialized by System.Text.Json

        Assert.Equal(1, await atB.ExpectMsgAsync<int>());

        static int Depth(JsonElement element) =>
            element.ValueKind == JsonValueKind.Array ? 1 + element.EnumerateArray().Select(Depth).DefaultIfEmpty(0).Max() : 0;
    }

    /// <summary>
    /// The same for a request: a provider that could not read the <c>req</c> frame could not answer it (it has no id),
    /// and the caller would wait for its whole timeout.
    /// </summary>
    [Fact]
    public async Task A_request_whose_JsonElement_was_read_with_a_comment_must_be_answered_by_a_remote_provider_not_time_out()
    {
        var (a, b) = await StartConnected("a", "b");
        await b.AddService<JsonElement, int>("read", (element, _, _) => new ValueTask<int>(element.GetProperty("v").GetInt32())).Ready;
        await AwaitConditionAsync(() => a.MessagingLayer.Routes.Current.Service("read") is not null, TestTimeouts.Default, message: "a to see b's service");

        var answer = await a.RequestAsync<JsonElement, int>("read", Lenient("""{"v":7 /* seven */, }"""), TimeSpan.FromSeconds(3));

        Assert.Equal(7, answer);
    }

    /// <summary>
    /// IMesh.SendAsync: "ArgumentException: The message is binary". An empty <c>byte[]</c> (or empty
    /// <c>ReadOnlyMemory&lt;byte&gt;</c>) is binary too, and is refused rather than sent as the raw message <c>null</c>.
    /// </summary>
    [Fact]
    public async Task SendAsync_must_refuse_an_empty_binary_message_instead_of_sending_a_raw_null_message()
    {
        var (a, b) = await StartConnected("a", "b");
        var channel = CreateTestProbe();
        await b.Subscribe(IMesh.ChannelTopic, message =>
        {
            channel.Ref.Tell(System.Text.Encoding.UTF8.GetString(message.Data.Span));
            return default;
        }).Ready;

        var refused = await Record.ExceptionAsync(() => a.SendAsync(b.Id, Array.Empty<byte>()).AsTask());
        await a.SendAsync(b.Id, new { marker = 1 });

        // The raw messages a sends b arrive in order: the first one b gets must be the marker, not a "null".
        Assert.Equal("""{"marker":1}""", await channel.ExpectMsgAsync<string>());
        Assert.IsType<ArgumentException>(refused);
    }

    /// <summary>
    /// WaitForSubscriberAsync waits on the node's routing table, which a stopped node never changes again: the stop ends
    /// the wait, as it ends <see cref="IMesh.Joined"/>, and every call after the stop throws "is stopped".
    /// </summary>
    [Fact]
    public async Task A_WaitForSubscriberAsync_pending_when_its_node_stops_must_end_instead_of_waiting_forever()
    {
        var a = await Start("a");
        var waiting = a.WaitForSubscriberAsync("nobody-ever", Timeout.InfiniteTimeSpan);
        Assert.False(waiting.IsCompleted);

        await a.StopAsync();

        await AwaitConditionAsync(() => waiting.IsCompleted, TestTimeouts.Scaled(TimeSpan.FromSeconds(5)), message: "the wait for a subscriber to end with its node");
        Assert.True(waiting.IsCanceled || waiting.Exception?.InnerException is OperationCanceledException or InvalidOperationException);
    }

    [Fact]
    public async Task The_listening_helpers_must_refuse_an_empty_topic_as_Subscribe_does()
    {
        var node = await Start("a");

        Assert.Throws<ArgumentException>(() => node.HasSubscribers(""));
        await Assert.ThrowsAsync<ArgumentException>(() => node.WaitForSubscriberAsync("", Timeout.InfiniteTimeSpan)); // not a wait for ever
        await Assert.ThrowsAsync<ArgumentException>(async () => await node.PublishIfListenedAsync("", () => 1)); // not "nobody listens"
    }
}
