using MeshActors;
using MeshActors.Actors;
using MeshActors.Messaging;

/// <summary>
/// The application's own actor: it subscribes to "prices" by telling the node's topic router, and asks for a quote by
/// telling the node's services actor; answers arrive in its mailbox like any other message, one at a time.
/// </summary>
internal sealed class PortfolioActor : ReceiveActor
{
    private readonly IMesh _mesh;
    private readonly int _pricesWanted;
    private readonly TaskCompletionSource _done;
    private int _prices;
    private int _answers;

    public PortfolioActor(IMesh mesh, int pricesWanted, TaskCompletionSource done)
    {
        (_mesh, _pricesWanted, _done) = (mesh, pricesWanted, done);

        Receive<SubscribeAck>(ack =>
        {
            Console.WriteLine($"  portfolio: subscribed to '{ack.Subscribe.Topic}'; asking for a quote");
            // The pricing node may not be known yet: wait for a provider rather than fail at once.
            var options = new RequestOptions { WaitForProvider = TimeSpan.FromSeconds(10) };
            _mesh.Services.Tell(new Request("quote", new QuoteRequest("ABC")) { Options = options }, Self);
            _mesh.Services.Tell(new Request("quote", new QuoteRequest("NOPE")) { Options = options }, Self);
        });
        Receive<ServiceResponse>(response =>
        {
            Console.WriteLine($"  portfolio: {response.SenderName} quotes ABC at {response.Deserialize<Price>().Value}");
            _answers++;
            CompleteWhenDone();
        });
        Receive<Status.Failure>(failure =>
        {
            Console.WriteLine($"  portfolio: a quote failed: {failure.Cause.Message}");
            _answers++;
            CompleteWhenDone();
        });
        Receive<TopicMessage>(message =>
        {
            var price = message.Deserialize<Price>();
            Console.WriteLine($"  portfolio: {message.SenderName} published {price.Symbol} {price.Value}");
            _prices++;
            CompleteWhenDone();
        });
    }

    private void CompleteWhenDone()
    {
        if (_prices == _pricesWanted && _answers == 2)
            _done.TrySetResult();
    }

    protected override void PreStart() => _mesh.TopicRouter.Tell(new Subscribe("prices", Self), Self);
}

internal sealed record Price(string Symbol, decimal Value);

internal sealed record QuoteRequest(string Symbol);
