using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using MeshActors.Actors;
using MeshActors.Peers;
using MeshActors.Protocol;

namespace MeshActors.Messaging;

/// <summary>Requesting services and hosting them.</summary>
internal sealed partial class MeshMessaging
{
    public Task<TResponse> RequestAsync<TRequest, TResponse>(string service, TRequest request, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        RequestAsync<TRequest, TResponse>(service, request, default, options, cancellationToken);

    public Task<TResponse> RequestAsync<TRequest, TResponse>(
        string service, TRequest request, ReadOnlyMemory<byte> attachment, RequestOptions? options, CancellationToken cancellationToken = default)
    {
        ReadOnlyMemory<byte> data, carried;
        try
        {
            ValidateName(service, "service name", nameof(service));
            if (typeof(TResponse) == typeof(ServiceReply))
                throw new NotSupportedException(Payload.ReadReplyAsResponse); // before the handler runs for nothing
            Payload.EnsureSupported<TResponse>(Json); // and a type the answer cannot be read as: the provider would run it for nothing
            (data, carried) = Payload.Encode(request, attachment, "request", Json);
        }
        catch (Exception ex)
        {
            return Task.FromException<TResponse>(ex); // as an async method would: the caller sees it when it awaits
        }

        return RequestAsync<TResponse>(service, data, carried, options, cancellationToken);
    }

    /// <summary>
    /// Sends the request to one provider, picked by <see cref="MessagingOptions.ServiceBalancer"/>, and waits for its
    /// answer, read as <typeparamref name="TResponse"/> (a <see cref="ServiceResponse"/> as it arrived). A provider that
    /// could not take the request (<c>no_service</c>, <c>unavailable</c>, its queue gone) is replaced once by another;
    /// one that left mid-request is replaced once only for an idempotent request. The whole call is one client span
    /// (docs/architecture.md, Tracing).
    /// </summary>
    /// <remarks>One async method from the call to the answer: each request allocates one state machine, not one per layer.</remarks>
    public async Task<TResponse> RequestAsync<TResponse>(
        string service, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> attachment, RequestOptions? options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested(); // given up before it began: not sent, then taken back
        options ??= RequestOptions.Default;
        var timeout = options.Timeout ?? Options.RequestTimeout;
        var started = 0L; // when the first provider was found: the timeout counts from there, retries included

        using var activity = MeshTracing.StartRequest(service);
        var trace = MeshTracing.Outgoing(activity);
        string? excluded = null;
        ExceptionDispatchInfo? firstFailure = null;
        CancellationTokenSource? deadline = null; // given back in the finally below
        try
        {
            while (true)
            {
                // Only the first search waits on its own budget: a retry's wait is part of the timeout.
                var wait = deadline is null ? options.WaitForProvider
                    : TimeSpan.FromTicks(Math.Min(options.WaitForProvider.Ticks, (timeout - Stopwatch.GetElapsedTime(started)).Ticks));
                var (route, target) = await FindProviderAsync(service, excluded, !attachment.IsEmpty, wait, cancellationToken).ConfigureAwait(false);
                if (target is null)
                {
                    firstFailure?.Throw();
                    throw new NoServiceProviderException(service, wait > TimeSpan.Zero ? $" (waited {wait.TotalMilliseconds:0} ms)" : null);
                }

                if (deadline is null)
                {
                    started = Stopwatch.GetTimestamp();
                    deadline = _deadlines.Start(timeout, cancellationToken);
                }

                if (!attachment.IsEmpty && target.Peer is { AcceptsAttachments: false } plain)
                {
                    firstFailure?.Throw();
                    throw new NotSupportedException($"No provider of service '{service}' accepts binary attachments (node {plain.NodeId} ({plain.Name}) does not), so the request cannot carry one.");
                }

                var remaining = timeout - Stopwatch.GetElapsedTime(started);
                var pending = Correlator.Start(service, target);
                var queued = false;
                Envelope answer;
                try
                {
                    if (remaining <= TimeSpan.Zero)
                        throw new TimeoutException();
                    var req = new Envelope.Req(pending.Id, service, data)
                    {
                        Timeout = remaining,
                        ExpiresAt = started + (long)(timeout.TotalSeconds * Stopwatch.Frequency), // timeout_ms as the frame is written
                        Idempotent = options.Idempotent,
                        Attachment = attachment,
                        Trace = trace,
                    };
                    await SendRequestAsync(route!, target, req, deadline.Token).ConfigureAwait(false);
                    queued = true;
                    // The provider's channel dropped as the request was queued, maybe after the drop failed what was in
                    // flight (the routes lose the provider a moment later): it ends now, as a request in flight at a drop
                    // does, not at its timeout. It may have been written first, so only an idempotent one goes elsewhere.
                    // Taken off the table first, as an answer or a failure takes it: one read meanwhile is the caller's.
                    if (target.Peer is { IsConnected: false } && Correlator.Remove(pending))
                        throw new PeerUnavailableException(target.NodeId, "its channel closed as the request was queued");
                    using (pending.CancelWith(deadline.Token))
                        answer = await pending.Task.ConfigureAwait(false);
                }
                catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
                {
                    Abandon(pending, queued);
                    throw Cancelled(ex, cancellationToken);
                }
                catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && deadline.IsCancellationRequested))
                {
                    Abandon(pending, queued);
                    throw new TimeoutException($"Service '{service}' on node {target.NodeId} ({target.Name}) did not answer within {timeout.TotalMilliseconds:0} ms.");
                }
                catch (PeerUnavailableException ex) when (firstFailure is null)
                {
                    // Thrown by the send: the request never reached the peer's queue (the peer may have failed the pending
                    // request already), so another provider may take it. Thrown by the wait: the provider left
                    // mid-request, and only an idempotent request may run a second time.
                    Correlator.Remove(pending);
                    if (queued && !options.Idempotent)
                        throw;
                    MessagingLog.Retrying(Log, pending.Id, service, target.NodeId, ex.Message);
                    firstFailure = ExceptionDispatchInfo.Capture(ex);
                    excluded = target.NodeId;
                    continue;
                }
                catch
                {
                    Abandon(pending, queued);
                    throw;
                }

                switch (answer)
                {
                    case Envelope.Res res when typeof(TResponse) == typeof(ServiceResponse):
                        return (TResponse)(object)new ServiceResponse(service, res.Data, res.Attachment, target.NodeId, target.Name, Json);
                    case Envelope.Res res:
                        return Payload.Decode<TResponse>(res.Data, res.Attachment, Json);
                    case Envelope.Err err when firstFailure is null && err.Code is ErrorCodes.NoService or ErrorCodes.Unavailable:
                        // The provider did not run it, so another may, idempotent or not.
                        MessagingLog.Retrying(Log, pending.Id, service, target.NodeId, err.Code);
                        firstFailure = ExceptionDispatchInfo.Capture(ToException(service, target, err));
                        excluded = target.NodeId;
                        continue;
                    default:
                        throw ToException(service, target, (Envelope.Err)answer);
                }
            }
        }
        catch (Exception ex)
        {
            MeshTracing.Fail(activity, ex);
            throw;
        }
        finally
        {
            if (deadline is not null)
                _deadlines.End(deadline, cancellationToken);
        }
    }

    /// <summary>Measures one request round trip to <paramref name="peer"/> through the built-in <see cref="PingService"/>, which every node answers.</summary>
    public async Task<TimeSpan> PingAsync(IPeer peer, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!peer.SpeaksMeshProtocol)
            throw new NotSupportedException($"Node {peer.NodeId} ({peer.Name}) is a plain Marketrix peer: it does not answer pings.");
        var pending = Correlator.Start(PingService, new RouteCandidate(peer.NodeId, peer.Name, peer));
        var started = Stopwatch.GetTimestamp();
        var deadline = _deadlines.Start(timeout, cancellationToken);
        var sent = false;
        try
        {
            await peer.SendAsync(new Envelope.Req(pending.Id, PingService, Payload.Null), deadline.Token).ConfigureAwait(false);
            sent = true;
            Envelope answer;
            using (pending.CancelWith(deadline.Token))
                answer = await pending.Task.ConfigureAwait(false);
            var elapsed = Stopwatch.GetElapsedTime(started);
            return answer is Envelope.Err err ? throw ToException(PingService, pending.Target, err) : elapsed;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            Abandon(pending, sent);
            throw new TimeoutException($"Node {peer.NodeId} ({peer.Name}) did not answer a ping within {timeout.TotalMilliseconds:0} ms.");
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
        {
            Abandon(pending, sent);
            throw Cancelled(ex, cancellationToken);
        }
        catch
        {
            Abandon(pending, sent);
            throw;
        }
        finally
        {
            _deadlines.End(deadline, cancellationToken);
        }
    }

    private ValueTask<(ServiceRoute? Route, RouteCandidate? Target)> FindProviderAsync(
        string service, string? excluded, bool carriesAttachment, TimeSpan waitForProvider, CancellationToken cancellationToken)
    {
        var found = TryFindProvider(Routes.Current, service, excluded, carriesAttachment);
        return found.Target is not null || waitForProvider <= TimeSpan.Zero
            ? new(found)
            : WaitForProviderAsync(service, excluded, carriesAttachment, waitForProvider, cancellationToken);
    }

    // Apart from FindProviderAsync, whose every call would otherwise allocate the closure of this lambda.
    private async ValueTask<(ServiceRoute? Route, RouteCandidate? Target)> WaitForProviderAsync(
        string service, string? excluded, bool carriesAttachment, TimeSpan waitForProvider, CancellationToken cancellationToken)
    {
        await Routes.WaitAsync(table => TryFindProvider(table, service, excluded, carriesAttachment).Target is not null, waitForProvider, cancellationToken).ConfigureAwait(false);
        return TryFindProvider(Routes.Current, service, excluded, carriesAttachment);
    }

    /// <summary>
    /// Picks a provider, other than <paramref name="excluded"/>; for a request with an attachment, among those that accept
    /// attachments when any does (when none does, the caller fails clearly rather than finding no provider at all).
    /// </summary>
    private (ServiceRoute? Route, RouteCandidate? Target) TryFindProvider(RoutingTable table, string service, string? excluded, bool carriesAttachment)
    {
        if (table.Service(service) is not { } route)
            return (null, null);
        var providers = excluded is null ? route.Providers : route.Providers.Without(excluded);
        if (carriesAttachment && providers?.AcceptingAttachments() is { } accepting)
            providers = accepting;
        return providers is null ? (route, null) : (route, providers[Select(Options.ServiceBalancer, providers, allowAll: false)]);
    }

    private ValueTask SendRequestAsync(ServiceRoute route, RouteCandidate target, Envelope.Req req, CancellationToken cancellationToken)
    {
        if (target.Peer is not { } peer)
        {
            // Local provider: the same path as a remote request, without the network; the answer comes back through the correlator.
            var request = new InboundRequest(null, SelfId, SelfName, req);
            Inbound.TryAdd(request);
            route.Local!.Tell(request, ActorRefs.NoSender);
            return default;
        }

        return peer.SendAsync(req, cancellationToken);
    }

    // The wait ends through the call's deadline source, linked to the caller's token: the caller gets its own token,
    // as .NET's cancellable calls give it, so that `when (e.CancellationToken == token)` tells its cancellation apart.
    private static OperationCanceledException Cancelled(OperationCanceledException ex, CancellationToken cancellationToken) =>
        ex.CancellationToken == cancellationToken ? ex : new OperationCanceledException(ex.Message, ex, cancellationToken);

    /// <summary>
    /// Stops waiting for <paramref name="pending"/> and, when it was <paramref name="sent"/>, tells its provider, so
    /// that the handler's token fires. The cancel is owed as an answer is: a full queue takes it all the same.
    /// </summary>
    private void Abandon(PendingRequest pending, bool sent)
    {
        if (!Correlator.Remove(pending) || !sent)
            return;
        if (pending.Target.Peer is { } peer)
            peer.TrySendOwed(new Envelope.Cancel(pending.Id));
        else
            Inbound.Cancel(null, pending.Id);
    }

    private static Exception ToException(string service, RouteCandidate target, Envelope.Err err) => err.Code switch
    {
        ErrorCodes.NoService => new NoServiceProviderException(service, $" (node {target.NodeId} answered no_service)"),
        ErrorCodes.Timeout => new TimeoutException($"Service '{service}' on node {target.NodeId} ({target.Name}) gave up: {err.Message}"),
        _ => new RemoteServiceException(service, target.NodeId, err.Code, err.ExceptionType ?? err.Code, err.Message),
    };

    public MeshRegistration AddService<TRequest, TResponse>(string service, Func<TRequest, MessageContext, CancellationToken, ValueTask<TResponse>> handler)
    {
        ValidateName(service, "service name", nameof(service));
        ArgumentNullException.ThrowIfNull(handler);
        // Types the node's JSON options cannot handle are refused now, not hosted to fail every request after it ran.
        Payload.EnsureSupported<TRequest>(Json);
        Payload.EnsureSupported<TResponse>(Json);
        return Host(service, request =>
        {
            TRequest value;
            try
            {
                value = request.Deserialize<TRequest>();
            }
            catch (JsonException ex)
            {
                throw new BadRequestException($"The request is not a {typeof(TRequest).Name}: {ex.Message}", ex);
            }

            var pending = handler(value, request, request.CancellationToken);
            return pending.IsCompletedSuccessfully ? new ValueTask<EncodedReply>(Encode(pending.Result)) : EncodeWhenDoneAsync(pending);
        });

        async ValueTask<EncodedReply> EncodeWhenDoneAsync(ValueTask<TResponse> pending) => Encode(await pending.ConfigureAwait(false));

        EncodedReply Encode(TResponse response)
        {
            var (data, attachment) = Payload.Encode(response, Json);
            return new EncodedReply(data, attachment);
        }
    }

    public MeshRegistration AddService(string service, IActorRef handler)
    {
        ValidateName(service, "service name", nameof(service));
        ArgumentNullException.ThrowIfNull(handler);
        var registration = NextRegistration();
        var services = Services;
        return new MeshRegistration(() => services.Tell(new ServicesActor.Unhost(service, registration), ActorRefs.NoSender))
        {
            Ready = services.Ask<ServiceHosted>(new HostService(service, handler) { Registration = registration }),
        };
    }

    private MeshRegistration Host(string service, ServiceHandler handler)
    {
        var registration = NextRegistration();
        var services = Services;
        return new MeshRegistration(() => services.Tell(new ServicesActor.Unhost(service, registration), ActorRefs.NoSender))
        {
            Ready = services.Ask<ServiceHosted>(new ServicesActor.HostHandler(service, handler, registration)),
        };
    }

    internal ServiceRequest ToServiceRequest(InboundRequest request, TraceContext? trace) =>
        new(request.Req.Service, request.Req.Data, request.Req.Attachment, request.SenderId, request.SenderName, request.Token, Json)
        {
            Trace = trace,
            // A unary call gives a request without timeout_ms its own deadline, which fires the token as timeout_ms does.
            Timeout = request.Req.Timeout ?? (request.Peer as UnaryCaller)?.DefaultTimeout,
        };

    /// <summary>Sends a handler's response back to its requester, unless the request was cancelled meanwhile.</summary>
    internal void Answer(InboundRequest request, EncodedReply reply)
    {
        if (!Inbound.TryFinish(request))
            return;
        if (!reply.Attachment.IsEmpty && request.Peer is { AcceptsAttachments: false } peer)
        {
            RefuseAttachment(peer, "response of service " + request.Req.Service, reply.Attachment.Length);
            Reply(request, new Envelope.Err(ErrorCodes.InternalError, "The response has a binary attachment, which the requester does not accept.") { Id = request.Req.Id });
            return;
        }

        Reply(request, new Envelope.Res(request.Req.Id, reply.Data) { Attachment = reply.Attachment });
    }

    /// <summary>Reports a handler's failure to its requester: the exception's type name and message, never its stack trace.</summary>
    internal void Fail(InboundRequest request, Exception exception)
    {
        if (exception is RequestNotTakenException notTaken)
        {
            Unavailable(request, notTaken.Message);
            return;
        }

        if (!Inbound.TryFinish(request))
            return; // cancelled: the failure is most likely the cancellation itself, and nobody waits for it
        var (code, type) = exception is BadRequestException ? (ErrorCodes.BadRequest, (string?)null) : (ErrorCodes.HandlerError, exception.GetType().FullName);
        Stats.OnHandlerFailure();
        MessagingLog.HandlerFailed(Log, request.Req.Service, request.SenderId, code, type ?? "-", exception.Message);
        Reply(request, new Envelope.Err(code, exception.Message) { Id = request.Req.Id, ExceptionType = type });
    }

    /// <summary>Answers a request its service actor, or the actor handling it, never took: the handler never ran, another provider may.</summary>
    internal void Unavailable(InboundRequest request, string why = "stopped before it ran the request")
    {
        if (!Inbound.TryFinish(request))
            return;
        Reply(request, new Envelope.Err(ErrorCodes.Unavailable, $"Service '{request.Req.Service}' on node {SelfId} ({SelfName}) {why}.") { Id = request.Req.Id });
    }

    private void Reply(InboundRequest request, Envelope answer)
    {
        if (request.Peer is not { } peer)
        {
            Correlator.Complete(SelfId, request.Req.Id, answer);
            Inbound.Answered(request);
            return;
        }

        // An answer is owed: it waits for room whatever the overflow policy (the policy is the application's answer for
        // its own sends), and gives up when its requester is gone (InboundRequests.CancelAll fires the token).
        var send = peer.SendWaitingAsync(answer, request.Token);
        if (!send.IsCompletedSuccessfully)
        {
            _ = ObserveAsync(send, request);
            return;
        }

        Inbound.Answered(request);

        async Task ObserveAsync(ValueTask send, InboundRequest request)
        {
            try
            {
                await send.ConfigureAwait(false);
            }
            catch (Exception)
            {
                Stats.OnDroppedSend();
                MessagingLog.AnswerDropped(Log, request.Req.Id, request.SenderId);
            }
            finally
            {
                Inbound.Answered(request);
            }
        }
    }
}
