using System.Text.Json;
using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Messaging;

namespace MeshActors;

/// <summary>The ask/tell facade of one mesh node: topics, services and membership, from plain code.</summary>
/// <remarks>
/// Everything here is a thin layer over the node's actors (<see cref="TopicRouter"/>, the service actors,
/// the registry and peer-manager actors); actors may message those directly instead.
/// Payloads travel as JSON: typed values go through <see cref="MeshOptions.Json"/>, <see cref="JsonElement"/>
/// travels as is, and <c>ReadOnlyMemory&lt;byte&gt;</c> travels as a raw binary attachment.
/// </remarks>
public interface IMesh : IAsyncDisposable
{
    /// <summary>The local topic on which raw channel messages arrive: frames without a type, as plain Marketrix peers send them.</summary>
    const string ChannelTopic = "$channel";

    /// <summary>This node as the other nodes see it.</summary>
    MeshMember Self { get; }

    /// <summary>The actor system the node runs on.</summary>
    ActorSystem System { get; }

    /// <summary>The live members of the mesh other than this node, as last seen by the registry actor.</summary>
    /// <remarks>Empty until the registry has been read once: await <see cref="Joined"/> to find the nodes that were there before this one.</remarks>
    IReadOnlyCollection<MeshMember> Members { get; }

    /// <summary>
    /// Completes once this node has registered and read the registry, the first time: <see cref="Members"/> then holds
    /// every node registered at that moment. <c>StartAsync</c> returns before, so that a node starts while its registry
    /// is down; this task waits for as long as it is, and is cancelled if the node stops first.
    /// </summary>
    Task Joined { get; }

    /// <summary>The actor that owns topic subscriptions; it accepts <see cref="Messaging.Publish"/>, <see cref="Messaging.Subscribe"/> and <see cref="Messaging.Unsubscribe"/> messages.</summary>
    IActorRef TopicRouter { get; }

    /// <summary>The parent of this node's service actors; it accepts <see cref="Messaging.Request"/>, <see cref="HostService"/> and <see cref="StopService"/> messages.</summary>
    IActorRef Services { get; }

    /// <summary>Counters of messages this node dropped or refused.</summary>
    MessagingStats Stats { get; }

    /// <summary>Calls <paramref name="handler"/> on every <see cref="MemberUp"/>, <see cref="MemberDown"/> and <see cref="MemberUpdated"/> until disposed.</summary>
    IDisposable OnMembership(Action<MemberEvent> handler);

    /// <summary>Publishes <paramref name="message"/> to every subscriber of <paramref name="topic"/> (at most once, ordered per sender).</summary>
    /// <remarks>
    /// Completes once the message is queued for every node that listens, which waits while a peer's queue is backed up
    /// or a local callback subscriber is far behind (docs/messaging.md, Guarantees). A <c>byte[]</c> or
    /// <c>ReadOnlyMemory&lt;byte&gt;</c> message travels as a binary attachment without being copied: do not change
    /// its bytes afterwards, since the channel writers and local subscribers read them later.
    /// </remarks>
    ValueTask PublishAsync<T>(string topic, T message, CancellationToken cancellationToken = default);

    /// <summary>Publishes <paramref name="message"/> as JSON with <paramref name="attachment"/> as its binary attachment, in one message; subscribers read the bytes from <see cref="MessageContext.Attachment"/>.</summary>
    /// <remarks>
    /// The bytes travel without base64 and without being copied: do not change them afterwards. Nodes that cannot take
    /// attachments (plain Marketrix peers) do not get the message (counted in <see cref="MessagingStats.DroppedAttachments"/>).
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="message"/> is itself binary (<c>byte[]</c> or <c>ReadOnlyMemory&lt;byte&gt;</c>) and an attachment is given too.</exception>
    ValueTask PublishAsync<T>(string topic, T message, ReadOnlyMemory<byte> attachment, CancellationToken cancellationToken = default);

    /// <summary>Sends <paramref name="message"/> as a raw channel message (a frame without a type) to the node with this id or name; how a plain Marketrix peer is spoken to.</summary>
    /// <exception cref="ArgumentException">The message is binary, or, for a node that speaks the mesh protocol, an object with a top-level <c>"t"</c> member, which that node would read as a frame type.</exception>
    ValueTask SendAsync<T>(string node, T message, CancellationToken cancellationToken = default);

    /// <summary>Calls <paramref name="handler"/> for each message on <paramref name="topic"/>, read as <typeparamref name="T"/>, until the subscription is disposed.</summary>
    /// <remarks>
    /// Messages reach the handler one at a time, in each publisher's order; a slow handler delays only its own
    /// subscription, until it is <see cref="Messaging.MessagingOptions.SubscriberBacklogLimit"/> messages behind: then
    /// the channels that feed it wait for it (nothing is dropped).
    /// </remarks>
    MeshRegistration Subscribe<T>(string topic, Func<T, MessageContext, ValueTask> handler);

    /// <summary>Calls <paramref name="handler"/> with each message on <paramref name="topic"/> as it arrived (raw JSON, attachment, sender) until disposed.</summary>
    MeshRegistration Subscribe(string topic, Func<TopicMessage, ValueTask> handler);

    /// <summary>Delivers each message on <paramref name="topic"/> to <paramref name="subscriber"/> as a <see cref="TopicMessage"/> until disposed.</summary>
    /// <remarks>
    /// Each call returns a handle of its own, valid until it is itself disposed (or the actor stops). Subscribing one
    /// actor to one topic more than once, here or with <see cref="Messaging.Subscribe"/> messages, still delivers each
    /// message to it once, for as long as any of those subscriptions lasts: disposing one handle ends neither the
    /// others nor what the messages started, and an <see cref="Messaging.Unsubscribe"/> message ends no handle.
    /// Disposing a handle tells the router, and takes effect once the router has taken it: a message published in
    /// between may still reach the actor (an actor that must see nothing more unsubscribes with an
    /// <see cref="Messaging.Unsubscribe"/> message and waits for its <see cref="Messaging.UnsubscribeAck"/>).
    /// </remarks>
    MeshRegistration Subscribe(string topic, IActorRef subscriber);

    /// <summary>True when some node, this one included, listens to <paramref name="topic"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="topic"/> is null or empty.</exception>
    bool HasSubscribers(string topic);

    /// <summary>Completes when some node listens to <paramref name="topic"/>; throws <see cref="TimeoutException"/> when <paramref name="timeout"/> passes first (<see cref="Timeout.InfiniteTimeSpan"/>: wait until cancelled).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative (other than infinite) or more than a .NET timer waits.</exception>
    /// <exception cref="ArgumentException"><paramref name="topic"/> is null or empty.</exception>
    /// <exception cref="InvalidOperationException">The node stopped while it waited.</exception>
    Task WaitForSubscriberAsync(string topic, TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>Sends <paramref name="request"/> to one provider of <paramref name="service"/> and returns its response.</summary>
    /// <exception cref="Messaging.NoServiceProviderException">No node hosts the service.</exception>
    /// <exception cref="Messaging.RemoteServiceException">The handler threw; carries its type name and message.</exception>
    /// <exception cref="TimeoutException">No response within the timeout (default <see cref="Messaging.MessagingOptions.RequestTimeout"/>).</exception>
    /// <remarks>
    /// Ask for a <see cref="ServiceResponse"/> to get the response as it arrived: its JSON, its binary attachment
    /// (<see cref="MessageContext.Attachment"/>) and the node that answered.
    /// </remarks>
    Task<TResponse> RequestAsync<TRequest, TResponse>(string service, TRequest request, Messaging.RequestOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Sends <paramref name="request"/> as JSON with <paramref name="attachment"/> as its binary attachment, in one request, to one provider of <paramref name="service"/>, and returns its response; the handler reads the bytes from <see cref="MessageContext.Attachment"/>.</summary>
    /// <remarks>
    /// Otherwise as <see cref="RequestAsync{TRequest, TResponse}(string, TRequest, Messaging.RequestOptions?, CancellationToken)"/>,
    /// whose exceptions it throws too; ask for a <see cref="ServiceResponse"/> to read the response's own attachment beside
    /// its JSON. Providers that accept attachments are preferred over those that do not. The bytes travel without base64
    /// and without being copied: do not change them afterwards, since a queued request or a local handler may read them
    /// after the call has ended (a timeout, a cancellation). <paramref name="options"/> has no default, so that a call
    /// passing <c>null</c> or <c>default</c> as its third argument keeps meaning the overload without an attachment.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="request"/> is itself binary (<c>byte[]</c> or <c>ReadOnlyMemory&lt;byte&gt;</c>) and an attachment is given too.</exception>
    /// <exception cref="NotSupportedException">No provider of the service accepts binary attachments.</exception>
    Task<TResponse> RequestAsync<TRequest, TResponse>(string service, TRequest request, ReadOnlyMemory<byte> attachment, Messaging.RequestOptions? options, CancellationToken cancellationToken = default);

    /// <summary>Hosts <paramref name="service"/> on this node until the returned handle is disposed.</summary>
    /// <remarks>The handler's token fires when the requester cancels, gives up or disconnects. An exception reaches the requester as a <see cref="RemoteServiceException"/> (type name and message only).</remarks>
    MeshRegistration AddService<TRequest, TResponse>(string service, Func<TRequest, MessageContext, CancellationToken, ValueTask<TResponse>> handler);

    /// <summary>Hosts <paramref name="service"/> with an actor: it receives each <see cref="ServiceRequest"/> and answers with its response (or a <c>Status.Failure</c>); withdrawn when disposed or when the actor stops.</summary>
    MeshRegistration AddService(string service, IActorRef handler);

    /// <summary>Opens this node's replica of the replicated dictionary <paramref name="name"/>, with the state of the replicas already reachable merged in.</summary>
    /// <remarks>
    /// Returns once every other node that holds a replica has sent its state, or after
    /// <see cref="Replication.ReplicatedDictionaryOptions{T}.OpenTimeout"/> (what is missing merges when it arrives); a
    /// node alone returns at once. A name is open once per node at a time. Dispose the dictionary to close the replica.
    /// </remarks>
    /// <exception cref="InvalidOperationException">This node already has the dictionary open.</exception>
    Task<Replication.ReplicatedDictionary<T>> OpenDictionaryAsync<T>(string name, Replication.ReplicatedDictionaryOptions<T>? options = null, CancellationToken cancellationToken = default);

    /// <summary>Measures one round trip to the node with this id, name or host:port.</summary>
    Task<TimeSpan> PingAsync(string node, CancellationToken cancellationToken = default);
}
