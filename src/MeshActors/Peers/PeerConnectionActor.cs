using System.Net;
using MeshActors.Actors;
using MeshActors.Transport;

namespace MeshActors.Peers;

/// <summary>
/// Owns one channel to a peer, dialed or accepted: opens it and shakes hands, reports the peer to the
/// <see cref="PeerManagerActor"/> (its parent), starts the channel's loops once told which peer it carries and
/// whether it drains that peer's queue, sends heartbeats, closes a hung channel, and reports the channel's end.
/// </summary>
/// <remarks>The frames themselves never pass through this actor: the loops of its <see cref="PeerChannel"/> run beside it.</remarks>
internal sealed class PeerConnectionActor : ReceiveActor, IWithTimers
{
    private const string HeartbeatTimer = "heartbeat";

    private readonly PeerChannel _channel;
    private readonly PeerChannelSettings _settings;
    private readonly TaskCompletionSource? _handlerDone;
    private PeerLink? _link;

    private PeerConnectionActor(PeerChannel channel, PeerChannelSettings settings, TaskCompletionSource? handlerDone)
    {
        _channel = channel;
        _settings = settings;
        _handlerDone = handlerDone;
        Receive<Opened>(OnOpened);
        Receive<DialFailed>(failed => Context.Parent.Tell(new ConnectionEnded(new ChannelEnd(failed.Error.Message, failed.Error))));
        Receive<AssignLink>(OnAssigned);
        Receive<Retire>(retire => _channel.Goodbye(retire.Reason));
        Receive<HeartbeatTick>(_ => CheckLiveness());
        Receive<ChannelEnd>(end => Context.Parent.Tell(new ConnectionEnded(end)));
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>A connection that dials <paramref name="address"/>; <paramref name="offerProtocol"/> false speaks plain Marketrix.</summary>
    public static Props Dialing(DnsEndPoint address, bool offerProtocol, PeerChannelSettings settings) =>
        Props.Create(() => new PeerConnectionActor(PeerChannel.Dial(address, offerProtocol, settings), settings, null));

    /// <summary>A connection for a channel the listener accepted; <paramref name="handlerDone"/> lets the listener's handler return once the channel is done.</summary>
    public static Props Accepting(MeshChannel channel, TaskCompletionSource handlerDone, PeerChannelSettings settings) =>
        Props.Create(() => new PeerConnectionActor(PeerChannel.Accept(channel, settings), settings, handlerDone));

    /// <inheritdoc />
    protected override void PreStart() =>
        _ = _channel.OpenAsync().PipeTo(Self, success: identity => new Opened(identity), failure: error => new DialFailed(error));

    /// <inheritdoc />
    protected override void PostStop()
    {
        // Nothing is left to do when the channel has ended; otherwise (the node stops, or this actor failed) reset it.
        _channel.Abort("the connection was stopped");
        _handlerDone?.TrySetResult();
    }

    private void OnOpened(Opened opened)
    {
        if (opened.Identity is { } identity)
        {
            Context.Parent.Tell(new ChannelHandshaken(identity));
        }

        _ = _channel.Completion.PipeTo(Self);
    }

    private void OnAssigned(AssignLink assign)
    {
        if (_link is not null)
        {
            // A standby plain channel now carries the peer.
            _channel.Attach(assign.Attachment!.Value);
            return;
        }

        if (assign.Link is null)
        {
            _channel.Goodbye(assign.RetireReason ?? "unwanted");
            _channel.Start(null, attachment: null);
            return;
        }

        _link = assign.Link;
        if (assign.RetireReason is { } reason)
        {
            // Retired before the loops start: the writer never takes anything from the peer's queue.
            _channel.Goodbye(reason);
        }

        _channel.Start(_link, assign.Attachment);
        var interval = _settings.Options.HeartbeatInterval / 2;
        Timers.StartPeriodicTimer(HeartbeatTimer, HeartbeatTick.Instance, interval);
    }

    private void CheckLiveness()
    {
        if (_channel.CheckLiveness())
        {
            _link?.Stats.OnLivenessTimeout();
            PeerLog.Hung(_settings.Logger, _channel.Description, _settings.Options.LivenessTimeout.TotalMilliseconds);
            _channel.Abort($"nothing received for {_settings.Options.LivenessTimeout.TotalMilliseconds:0} ms: the peer is hung");
            Timers.Cancel(HeartbeatTimer);
        }
    }

    /// <summary>To the manager: the handshake is done; the answer is <see cref="AssignLink"/>.</summary>
    public sealed record ChannelHandshaken(PeerIdentity Identity);

    /// <summary>To the manager: the channel is gone (or was never opened); the manager stops the actor.</summary>
    public sealed record ConnectionEnded(ChannelEnd End);

    /// <summary>
    /// From the manager: the peer the channel carries (null: close it at once), whether its writer drains that peer's
    /// queue, and, for a channel that lost to another one, the reason of the goodbye to send on it.
    /// </summary>
    /// <param name="Link">The peer the channel carries; null when it is unwanted.</param>
    /// <param name="Attachment">When the channel is to drain the link's queue, the number the manager gave this attachment; null to stand by.</param>
    /// <param name="RetireReason">When set, the channel says goodbye with it before it starts.</param>
    public sealed record AssignLink(PeerLink? Link, long? Attachment, string? RetireReason = null);

    /// <summary>From the manager: say goodbye on the channel (another channel carries the peer, or the node stops).</summary>
    public sealed record Retire(string Reason);

    private sealed record Opened(PeerIdentity? Identity);

    private sealed record DialFailed(Exception Error);

    private sealed class HeartbeatTick
    {
        public static HeartbeatTick Instance { get; } = new();
    }
}
