using System.Collections.Concurrent;
using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Messaging;
using MeshActors.Peers;

namespace MeshActors;

/// <summary>The facade's calls: each hands over to the messaging layer, or answers from the membership this node saw.</summary>
public sealed partial class MeshNode
{
    private readonly ConcurrentDictionary<string, MeshMember> _members = new(StringComparer.OrdinalIgnoreCase);

    /// <inheritdoc />
    public IReadOnlyCollection<MeshMember> Members => _members.Values.ToArray();

    /// <inheritdoc />
    public Task Joined => _joined.Task;

    /// <inheritdoc />
    public IDisposable OnMembership(Action<MemberEvent> handler) => System.EventStream.Subscribe(handler);

    /// <inheritdoc />
    public ValueTask PublishAsync<T>(string topic, T message, CancellationToken cancellationToken = default) =>
        Messaging.PublishAsync(topic, message, cancellationToken: cancellationToken);

    /// <inheritdoc />
    public ValueTask PublishAsync<T>(string topic, T message, ReadOnlyMemory<byte> attachment, CancellationToken cancellationToken = default) =>
        Messaging.PublishAsync(topic, message, attachment, cancellationToken);

    /// <inheritdoc />
    public ValueTask SendAsync<T>(string node, T message, CancellationToken cancellationToken = default) =>
        Messaging.SendAsync(node, message, cancellationToken);

    /// <inheritdoc />
    public MeshRegistration Subscribe<T>(string topic, Func<T, MessageContext, ValueTask> handler) => Messaging.Subscribe(topic, handler);

    /// <inheritdoc />
    public MeshRegistration Subscribe(string topic, Func<TopicMessage, ValueTask> handler) => Messaging.Subscribe(topic, handler);

    /// <inheritdoc />
    public MeshRegistration Subscribe(string topic, IActorRef subscriber) => Messaging.Subscribe(topic, subscriber);

    /// <inheritdoc />
    public bool HasSubscribers(string topic) => Messaging.HasSubscribers(topic);

    /// <inheritdoc />
    public Task WaitForSubscriberAsync(string topic, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Messaging.WaitForSubscriberAsync(topic, timeout, cancellationToken);

    /// <inheritdoc />
    public Task<TResponse> RequestAsync<TRequest, TResponse>(string service, TRequest request, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        Messaging.RequestAsync<TRequest, TResponse>(service, request, options, cancellationToken);

    /// <inheritdoc />
    public Task<TResponse> RequestAsync<TRequest, TResponse>(string service, TRequest request, ReadOnlyMemory<byte> attachment, RequestOptions? options, CancellationToken cancellationToken = default) =>
        Messaging.RequestAsync<TRequest, TResponse>(service, request, attachment, options, cancellationToken);

    /// <inheritdoc />
    public MeshRegistration AddService<TRequest, TResponse>(string service, Func<TRequest, MessageContext, CancellationToken, ValueTask<TResponse>> handler) =>
        Messaging.AddService(service, handler);

    /// <inheritdoc />
    public MeshRegistration AddService(string service, IActorRef handler) => Messaging.AddService(service, handler);

    /// <inheritdoc />
    /// <exception cref="PeerUnavailableException">No connected node has this id, name or address.</exception>
    /// <exception cref="TimeoutException">No answer within <see cref="MessagingOptions.RequestTimeout"/>.</exception>
    public Task<TimeSpan> PingAsync(string node, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(node);
        var messaging = Messaging;
        var peer = messaging.ConnectedPeer(node)
            ?? (_members.Values.FirstOrDefault(member => member.Address == node || $"{member.Host}:{member.Port}" == node) is { } member
                ? messaging.ConnectedPeer(member.Id)
                : null)
            ?? throw new PeerUnavailableException(node, "no connected node has this id, name or address");
        return messaging.PingAsync(peer, _options.Messaging.RequestTimeout, cancellationToken);
    }

    private void OnMemberEvent(MemberEvent memberEvent)
    {
        if (memberEvent is MemberDown)
            _members.TryRemove(memberEvent.Member.Id, out _);
        else
            _members[memberEvent.Member.Id] = memberEvent.Member;
    }
}
