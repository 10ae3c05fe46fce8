using MeshActors.Actors;
using Microsoft.Extensions.Logging;

namespace MeshActors.Messaging;

/// <summary>Runs one callback subscription: messages one at a time, in arrival order, so a slow callback holds up only itself.</summary>
/// <remarks>A callback that throws, or a message it cannot read, is logged and counted; the subscription goes on.</remarks>
internal sealed class TopicCallbackActor : ReceiveActor
{
    private readonly string _topic;
    private readonly Func<TopicMessage, ValueTask> _handler;
    private readonly MessagingStats _stats;
    private readonly ILogger _log;

    public TopicCallbackActor(string topic, Func<TopicMessage, ValueTask> handler, MessagingStats stats)
    {
        _topic = topic;
        _handler = handler;
        _stats = stats;
        _log = Context.Log;
        ReceiveAsync<TopicMessage>(Handle);
    }

    public static Props Props(string topic, Func<TopicMessage, ValueTask> handler, MessagingStats stats) =>
        Actors.Props.Create(() => new TopicCallbackActor(topic, handler, stats));

    private Task Handle(TopicMessage message)
    {
        ValueTask pending;
        try
        {
            pending = _handler(message);
        }
        catch (Exception ex)
        {
            Failed(message, ex);
            return Task.CompletedTask;
        }

        return pending.IsCompletedSuccessfully ? Task.CompletedTask : AwaitAsync(pending, message);
    }

    private async Task AwaitAsync(ValueTask pending, TopicMessage message)
    {
        try
        {
            await pending;
        }
        catch (Exception ex)
        {
            Failed(message, ex);
        }
    }

    private void Failed(TopicMessage message, Exception exception)
    {
        _stats.OnSubscriberFailure();
        MessagingLog.SubscriberFailed(_log, _topic, message.SenderName, message.SenderId, exception);
    }
}
