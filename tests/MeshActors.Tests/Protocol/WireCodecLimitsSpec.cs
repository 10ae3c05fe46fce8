using System.Text;
using System.Threading.Channels;
using MeshActors.Protocol;
using MeshActors.Tests.Mesh;
using Xunit.Abstractions;

namespace MeshActors.Tests.Protocol;

using MeshActors.TestKit;

/// <summary>
/// The wire codec at its edges, as docs/protocol.md states them: frames up to <c>max_frame</c> over a real channel, names
/// that the JSON writer cannot write as they are, and repeated members ("the last one wins", 4.1) in every frame type.
/// </summary>
public sealed class WireCodecLimitsSpec(ITestOutputHelper output) : LoopbackMesh(output)
{
    [Fact]
    public async Task A_frame_larger_than_the_HTTP2_stream_window_but_within_max_frame_must_arrive_in_both_directions_of_a_channel()
    {
        // docs/protocol.md 3.1: the default max_frame is 16 MiB and a payload up to it is accepted. The HTTP/2 stream
        // window (TransportOptions.Http2StreamWindowSize) is 4 MiB: a 6 MiB frame needs more than one window's worth.
        var (a, b) = await StartConnected("a", "b");
        var received = Channel.CreateUnbounded<string>();
        foreach (var node in new[] { a, b })
        {
            var name = node.Self.Name;
            await node.Subscribe<string>("large-to-" + name, (text, _) =>
            {
                received.Writer.TryWrite($"{name} got {text.Length} chars");
                return default;
            }).Ready;
        }

        await a.WaitForSubscriberAsync("large-to-b", TestTimeouts.Default);
        await b.WaitForSubscriberAsync("large-to-a", TestTimeouts.Default);
        var large = new string('x', 6 * 1024 * 1024);

        // One of the two is sent by the listener to the node that dialed the channel, the other the opposite way.
        await a.PublishAsync("large-to-b", large);
        await b.PublishAsync("large-to-a", large);

        var arrived = new List<string>();
        try
        {
            for (var i = 0; i < 2; i++)
                arrived.Add(await received.Reader.ReadAsync().AsTask().WithTimeout());
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Only [{string.Join(", ", arrived)}] arrived: the other 6 MiB frame never did (the channel was closed as hung, and the message lost).");
        }

        Assert.Equivalent(new[] { $"a got {large.Length} chars", $"b got {large.Length} chars" }, arrived);
    }

    [Fact]
    public async Task A_topic_name_the_wire_cannot_carry_exactly_must_be_refused_not_silently_renamed()
    {
        // A lone surrogate, as a name cut in the middle of an emoji has. The decoder refuses such a name (it names no
        // text); a name the node accepts must reach the other nodes as it is, or be refused up front.
        const string topic = "prices-\ud83c";
        var (publisher, subscriber) = await StartConnected("publisher", "subscriber");
        var received = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        MeshActors.Messaging.MeshRegistration registration;
        try
        {
            registration = subscriber.Subscribe<int>(topic, (n, _) =>
            {
                received.TrySetResult(n);
                return default;
            });
        }
        catch (ArgumentException)
        {
            return; // refused where the caller can see it
        }

        using (registration)
        {
            await registration.Ready;
            const string replaced = "prices-\ufffd";
            await AwaitConditionAsync(
                () => publisher.MessagingLayer.Routes.Current.Topic(topic) is not null || publisher.MessagingLayer.Routes.Current.Topic(replaced) is not null,
                TestTimeouts.Default,
                message: "the subscriber's interest to reach the publisher");

            Assert.True(publisher.MessagingLayer.Routes.Current.Topic(topic) is not null,
                "The subscriber's interest reached the publisher naming topic 'prices-\\ufffd', not the topic subscribed: a message published on it is not sent.");
            await publisher.PublishAsync(topic, 7);
            Assert.Equal(7, await received.Task.WithTimeout());
        }
    }

    [Theory]
    [InlineData("{\"t\":\"bye\",\"reason\":7,\"reason\":\"shutdown\"}", "Bye { Type = bye, Reason = shutdown }")]
    [InlineData("{\"t\":\"bye\",\"reason\":null,\"reason\":\"shutdown\"}", "Bye { Type = bye, Reason = shutdown }")]
    [InlineData("{\"t\":\"err\",\"code\":5,\"code\":\"timeout\",\"msg\":\"late\"}", "Err { Type = err, Code = timeout, Message = late, Id = , ExceptionType =  }")]
    [InlineData("{\"t\":\"interest\",\"ver\":\"1\",\"ver\":2,\"topics\":[],\"services\":[\"quote\"]}", "interest ver=2 topics=[] services=[quote]")]
    [InlineData("{\"t\":\"interest\",\"ver\":1,\"topics\":null,\"topics\":[\"prices\"],\"services\":[]}", "interest ver=1 topics=[prices] services=[]")]
    [InlineData("{\"t\":\"hello\",\"v\":1,\"node\":\"n\",\"name\":\"x\",\"max_frame\":\"big\",\"max_frame\":65536}", "hello v=1 node=n name=x caps=[] max=65536")]
    [InlineData("{\"t\":\"hello\",\"v\":null,\"v\":1,\"node\":\"n\",\"name\":\"x\"}", "hello v=1 node=n name=x caps=[] max=16777216")]
    public void A_repeated_member_must_take_its_last_value_in_every_frame_type(string json, string expected)
    {
        // docs/protocol.md 4.1: "Where a member name repeats, the last one wins", as it does for pub, req, res, cancel,
        // ping and pong: {"t":"ping","n":"bad","n":2} is a ping of 2 (EnvelopeRoundTripSpec).
        Assert.Equal(new Envelope.Ping(2), Decode("{\"t\":\"ping\",\"n\":\"bad\",\"n\":2}"));

        Envelope? decoded;
        try
        {
            decoded = Decode(json);
        }
        catch (MeshProtocolException e)
        {
            Assert.Fail($"Refused with {e.Code}, judging a value that a later one replaced: {e.Message}");
            return;
        }

        Assert.Equal(expected, Wire.Describe(decoded!));
    }

    private static Envelope? Decode(string json) => new EnvelopeDecoder().Decode(Encoding.UTF8.GetBytes(json).AsSpan());
}
