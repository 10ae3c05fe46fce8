using MeshActors.Messaging;
using MeshActors.Protocol;

namespace MeshActors.Tests.Messaging;

using MeshActors.TestKit;

/// <summary>The table of requests a node serves: a request counts as ended only once its answer is queued.</summary>
public sealed class InboundRequestsSpec
{
    private static InboundRequest Request(long id) => new(null, "caller", "caller", new Envelope.Req(id, "work", Payload.Null));

    [Fact]
    public async Task A_stop_must_wait_for_an_answer_that_is_not_queued_yet()
    {
        var inbound = new InboundRequests(static _ => { });
        var request = Request(1);
        Assert.True(inbound.TryAdd(request));
        Assert.True(inbound.TryFinish(request)); // the handler is done; its answer waits for room in the requester's queue

        var drained = inbound.DrainAsync(TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.False(drained.IsCompleted, "the drain ended before the answer was queued");

        inbound.Answered(request);
        await drained.WithTimeout();
    }

    [Fact]
    public void A_cancel_arriving_while_the_answer_is_queued_must_not_fire_the_handlers_token_nor_free_the_id()
    {
        var inbound = new InboundRequests(static _ => { });
        var request = Request(1);
        inbound.TryAdd(request);
        Assert.True(inbound.TryFinish(request));

        inbound.Cancel(null, 1);

        Assert.False(request.Token.IsCancellationRequested);
        Assert.False(inbound.TryAdd(Request(1))); // the requester has not had its answer: the id is still taken
        inbound.Answered(request);
        Assert.True(inbound.TryAdd(Request(1)));
    }

    [Fact]
    public void A_cancelled_request_must_not_be_answered()
    {
        var inbound = new InboundRequests(static _ => { });
        var request = Request(1);
        inbound.TryAdd(request);

        inbound.Cancel(null, 1);

        Assert.True(request.Token.IsCancellationRequested);
        Assert.False(inbound.TryFinish(request));
        Assert.Equal(0, inbound.Count);
    }
}
