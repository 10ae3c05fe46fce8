using System.Diagnostics;
using System.Runtime.ExceptionServices;
using MeshActors.Actors;
using MeshActors.Peers;
using MeshActors.Protocol;

namespace MeshActors.Messaging;

/// <summary>Publishing and subscribing.</summary>
internal sealed partial class MeshMessaging
{
    public ValueTask PublishAsync<T>(string topic, T message, ReadOnlyMemory<byte> attachment = default, CancellationToken cancellationToken = default)
    {
        ValidateName(topic, "topic", nameof(topic));
        var (data, carried) = Payload.Encode(message, attachment, "message", Json);
        return Publish(topic, data, carried, wait: true, cancellationToken);
    }

    /// <summary>Publishes without ever waiting: a peer whose queue is full misses the message (counted). What actors use.</summary>
    public void Publish(string topic, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> attachment) =>
        Publish(topic, data, attachment, wait: false, CancellationToken.None);

    /// <summary>
    /// Local subscribers get the message at once, without touching the network; each remote node with subscribers
    /// gets one <c>pub</c>, and of each group of same-named nodes only the one the group balancer picks.
    /// </summary>
    private ValueTask Publish(string topic, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> attachment, bool wait, CancellationToken cancellationToken)
    {
        var route = Routes.Current.Topic(topic);
        if (route is null)
            return default;

        // The span lasts until the sends that wait for room are done, and fails with them; the caller goes on in its own.
        var previous = Activity.Current;
        var activity = MeshTracing.StartPublish(topic);
        var trace = MeshTracing.Outgoing(activity);
        TopicMessage? local = null;
        Envelope.Pub? pub = null;
        List<Task>? sending = null;
        try
        {
            foreach (var group in route.Groups)
            {
                // A message with an attachment goes to a member that can take one; the group misses it only when none can.
                var members = attachment.IsEmpty ? group : group.AcceptingAttachments() ?? group;
                var choice = group.Count == 1 ? 0 : Select(Options.TopicGroupBalancer, members, allowAll: true);
                if (choice != LoadBalancers.All)
                {
                    Deliver(members[choice]);
                    continue;
                }

                foreach (var candidate in group)
                    Deliver(candidate); // every member: one that cannot take the attachment counts as a drop
            }
        }
        catch (Exception ex)
        {
            MeshTracing.Fail(activity, ex);
            activity?.Dispose();
            throw;
        }
        finally
        {
            Activity.Current = previous;
        }

        if (sending is not null)
            return new ValueTask(AwaitSendsAsync(sending, activity, cancellationToken));
        activity?.Dispose();
        return default;

        void Deliver(RouteCandidate candidate)
        {
            if (candidate.Peer is not { } peer)
            {
                local ??= new TopicMessage(topic, data, attachment, SelfId, SelfName, Json) { Trace = trace };
                var ready = TellSubscribers(route.LocalSubscribers, local);
                if (wait && !ready.IsCompleted)
                    (sending ??= []).Add(ready.AsTask().WaitAsync(cancellationToken)); // told already: only the wait for room ends
                return;
            }

            if (!attachment.IsEmpty && !peer.AcceptsAttachments)
            {
                RefuseAttachment(peer, "message on topic " + topic, attachment.Length);
                return;
            }

            pub ??= new Envelope.Pub(topic, data) { Attachment = attachment, Trace = trace };
            if (!wait)
            {
                if (!peer.TrySend(pub))
                    Stats.OnDroppedSend();
                return;
            }

            var send = peer.SendAsync(pub, cancellationToken);
            if (!send.IsCompletedSuccessfully)
                (sending ??= []).Add(send.AsTask());
        }
    }

    /// <summary>Waits for the sends that had to wait for room, then ends the publish's span; every peer is tried before a failure is thrown.</summary>
    private async Task AwaitSendsAsync(List<Task> sending, Activity? activity, CancellationToken cancellationToken)
    {
        using var span = activity;
        ExceptionDispatchInfo? failure = null;
        foreach (var send in sending)
        {
            try
            {
                await send.ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
            {
                failure ??= ExceptionDispatchInfo.Capture(ex); // the caller stopped waiting: not a drop it does not know of
            }
            catch (PeerUnavailableException)
            {
                Stats.OnDroppedSend(); // it left: at most once means it just misses the message
            }
            catch (Exception ex)
            {
                Stats.OnDroppedSend();
                failure ??= ExceptionDispatchInfo.Capture(ex);
            }
        }

        if (failure is not null)
        {
            MeshTracing.Fail(activity, failure.SourceException);
            failure.Throw();
        }
    }

    /// <summary>Hands a message that arrived from a peer (or a raw channel message) to this node's subscribers.</summary>
    /// <returns>Completed, or while a subscriber is too far behind, a task that completes when it has caught up.</returns>
    private ValueTask DeliverLocally(string topic, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> attachment, TraceContext? trace, IPeer from)
    {
        var subscribers = Routes.Current.Topic(topic)?.LocalSubscribers;
        if (subscribers is not { Length: > 0 })
        {
            Stats.OnUndeliverable();
            return default;
        }

        return TellSubscribers(subscribers, new TopicMessage(topic, data, attachment, from.NodeId, from.Name, Json) { Trace = trace });
    }

    private ValueTask TellSubscribers(LocalSubscriber[] subscribers, TopicMessage message)
    {
        ValueTask ready = default;
        foreach (var (actor, backlog, gate) in subscribers)
        {
            // Counted before it is told, so that the subscriber never takes a message that was not counted yet.
            var behind = backlog?.Add(message.Size) ?? default;
            if (!gate.TryTell(actor, message))
            {
                backlog?.Remove(message.Size); // unsubscribed since the routes were read: not told
                continue;
            }

            if (!behind.IsCompleted)
                ready = behind;
        }

        return ready;
    }

    public MeshRegistration Subscribe(string topic, IActorRef subscriber)
    {
        ValidateName(topic, "topic", nameof(topic));
        ArgumentNullException.ThrowIfNull(subscriber);
        var holder = NextRegistration();
        var router = TopicRouter;
        return new MeshRegistration(() => router.Tell(new TopicRouterActor.ReleaseSubscription(topic, subscriber, holder), ActorRefs.NoSender))
        {
            Ready = router.Ask<SubscribeAck>(new TopicRouterActor.HoldSubscription(topic, subscriber, holder)),
        };
    }

    public MeshRegistration Subscribe(string topic, Func<TopicMessage, ValueTask> handler)
    {
        ValidateName(topic, "topic", nameof(topic));
        ArgumentNullException.ThrowIfNull(handler);
        var id = NextRegistration();
        var router = TopicRouter;
        var registration = new MeshRegistration(() => router.Tell(new TopicRouterActor.CancelCallback(id), ActorRefs.NoSender));

        // Messages already queued for the callback when it is disposed are skipped: disposal takes effect at once.
        registration.Ready = router.Ask<SubscribeAck>(new TopicRouterActor.SubscribeCallback(
            topic, id, message => registration.IsDisposed ? default : handler(message)));
        return registration;
    }

    public MeshRegistration Subscribe<T>(string topic, Func<T, MessageContext, ValueTask> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Payload.EnsureSupported<T>(Json); // refused now, not counted as unreadable at every message
        return Subscribe(topic, message => handler(message.Deserialize<T>(), message));
    }

    public bool HasSubscribers(string topic)
    {
        ValidateName(topic, "topic", nameof(topic));
        return Routes.Current.Topic(topic) is not null;
    }

    public async Task WaitForSubscriberAsync(string topic, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateName(topic, "topic", nameof(topic));
        if (timeout != Timeout.InfiniteTimeSpan && (timeout < TimeSpan.Zero || timeout > TimerLimit.Max))
        {
            throw new ArgumentOutOfRangeException(
                nameof(timeout), timeout, $"The wait for a subscriber is zero to {TimerLimit.Max}, or Timeout.InfiniteTimeSpan to wait until cancelled.");
        }

        if (!await Routes.WaitAsync(table => table.Topic(topic) is not null, timeout, cancellationToken).ConfigureAwait(false))
            throw new TimeoutException($"Nobody subscribed to topic '{topic}' within {timeout.TotalMilliseconds:0} ms.");
    }

    /// <summary>Sends <paramref name="message"/> as a raw channel message (a frame without a type) to the connected node with this id or name.</summary>
    /// <exception cref="PeerUnavailableException">No connected node has this id or name.</exception>
    public ValueTask SendAsync<T>(string node, T message, CancellationToken cancellationToken = default)
    {
        var peer = ConnectedPeer(node) ?? throw new PeerUnavailableException(node, "no connected node has this id or name");
        if (Payload.CarriesAttachment(message))
            throw new ArgumentException("A raw channel message is JSON only: it cannot carry binary data.", nameof(message));
        var (data, _) = Payload.Encode(message, Json);
        if (peer.SpeaksMeshProtocol && Payload.HasTopLevelMember(data.Span, "t"u8))
        {
            throw new ArgumentException(
                "A raw channel message to a mesh node cannot have a top-level \"t\" member: the node would read it as a frame of that type (docs/protocol.md 4.3).",
                nameof(message));
        }

        return peer.SendAsync(new Envelope.Raw(data), cancellationToken);
    }

    private static int Select(ILoadBalancer balancer, CandidateGroup group, bool allowAll)
    {
        var choice = balancer.Select(group);
        if ((uint)choice < (uint)group.Count || (allowAll && choice == LoadBalancers.All))
            return choice;
        throw new InvalidOperationException($"Load balancer {balancer} chose {choice} among {group.Count} candidates for '{group.Address}'.");
    }
}
