using System.Diagnostics;
using MeshActors.Actors;
using Microsoft.Extensions.Logging;

namespace MeshActors.Messaging;

/// <summary>Runs one callback subscription: messages one at a time, in arrival order, so a slow callback holds up only itself.</summary>
/// <remarks>
/// A callback that throws, or a message it cannot read, is logged and counted; the subscription goes on. What waits
/// in its mailbox is counted in its <see cref="SubscriberBacklog"/>, which holds its feeders back when it falls behind.
/// </remarks>
internal sealed class TopicCallbackActor : ReceiveActor
{
    private readonly string _topic;
    private readonly Func<TopicMessage, ValueTask> _handler;
    private readonly SubscriberBacklog _backlog;
    private readonly MessagingStats _stats;
    private readonly ILogger _log;

    public TopicCallbackActor(string topic, Func<TopicMessage, ValueTask> handler, SubscriberBacklog backlog, MessagingStats stats)
    {
        _topic = topic;
        _handler = handler;
        _backlog = backlog;
        _stats = stats;
        _log = Context.Log;
        ReceiveAsync<TopicMessage>(Handle);
    }

    public static Props Props(string topic, Func<TopicMessage, ValueTask> handler, SubscriberBacklog backlog, MessagingStats stats) =>
        Actors.Props.Create(() => new TopicCallbackActor(topic, handler, backlog, stats));

    /// <summary>Messages still in the mailbox go to dead letters: nobody may wait for them to be taken.</summary>
    protected override void PostStop() => _backlog.Close();

    private Task Handle(TopicMessage message)
    {
        _backlog.Remove(message.Size);
        var previous = Activity.Current;
        var activity = MeshTracing.StartProcess(_topic, message.Trace);
        var context = SynchronizationContext.Current;
        ValueTask pending;
        try
        {
            // The callback is the application's code, not this actor's: its awaits resume on the thread pool. On the
            // actor's context they would be dropped once the subscription is disposed (its finally blocks never run),
            // and a callback that blocks on one of its own tasks would deadlock the subscription.
            SynchronizationContext.SetSynchronizationContext(null);
            pending = _handler(message);
        }
        catch (Exception ex)
        {
            pending = ValueTask.FromException(ex);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
            Activity.Current = previous; // the callback's awaits carry its span on; the next message must not
        }

        if (!pending.IsCompletedSuccessfully)
            return AwaitAsync(pending, message, activity);
        activity?.Dispose();
        return Task.CompletedTask;
    }

    private async Task AwaitAsync(ValueTask pending, TopicMessage message, Activity? activity)
    {
        using (activity)
        {
            try
            {
                await pending;
            }
            catch (Exception ex)
            {
                Failed(message, ex, activity);
            }
        }
    }

    private void Failed(TopicMessage message, Exception exception, Activity? activity)
    {
        MeshTracing.Fail(activity, exception);
        _stats.OnSubscriberFailure();
        MessagingLog.SubscriberFailed(_log, _topic, message.SenderName, message.SenderId, exception);
    }
}
