using System.Diagnostics;
using MeshActors.Actors;

namespace MeshActors.Messaging;

/// <summary>Hosts one service on this node: runs its handler for each request and sends the answer back where the request came from.</summary>
/// <remarks>
/// The handler's synchronous part runs on the actor, one request at a time; an asynchronous handler's awaits run off
/// the actor, so requests overlap and answers go out in the order they complete (docs/protocol.md 5.3).
/// </remarks>
internal sealed class ServiceActor : ReceiveActor
{
    private readonly ServiceHandler _handler;
    private readonly MeshMessaging _messaging;

    public ServiceActor(ServiceHandler handler, MeshMessaging messaging)
    {
        _handler = handler;
        _messaging = messaging;
        Receive<InboundRequest>(Handle);
    }

    public static Props Props(ServiceHandler handler, MeshMessaging messaging) => Actors.Props.Create(() => new ServiceActor(handler, messaging));

    private void Handle(InboundRequest request)
    {
        if (request.Token.IsCancellationRequested)
            return; // cancelled while queued: nobody waits for it

        var previous = Activity.Current;
        var activity = MeshTracing.StartHandle(request.Req.Service, request.Req.Trace);
        ValueTask<EncodedReply> pending;
        try
        {
            // The server span around the handler is the context an actor handler continues the trace from.
            pending = _handler(_messaging.ToServiceRequest(request, activity is null ? request.Req.Trace : MeshTracing.Outgoing(activity)));
        }
        catch (Exception ex)
        {
            pending = ValueTask.FromException<EncodedReply>(ex);
        }
        finally
        {
            Activity.Current = previous; // the handler's awaits carry its span on; the actor's next message must not
        }

        if (pending.IsCompleted)
            Complete(request, pending, activity);
        else
            _ = CompleteWhenDoneAsync(request, pending, activity);
    }

    private void Complete(InboundRequest request, ValueTask<EncodedReply> completed, Activity? activity)
    {
        using (activity)
        {
            EncodedReply reply;
            try
            {
                reply = completed.Result;
            }
            catch (Exception ex)
            {
                MeshTracing.Fail(activity, ex);
                _messaging.Fail(request, ex);
                return;
            }

            _messaging.Answer(request, reply);
        }
    }

    private async Task CompleteWhenDoneAsync(InboundRequest request, ValueTask<EncodedReply> pending, Activity? activity)
    {
        using (activity)
        {
            EncodedReply reply;
            try
            {
                reply = await pending.ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                MeshTracing.Fail(activity, ex);
                _messaging.Fail(request, ex);
                return;
            }

            _messaging.Answer(request, reply);
        }
    }
}
