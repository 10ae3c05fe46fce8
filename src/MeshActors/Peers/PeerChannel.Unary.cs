using MeshActors.Protocol;
using MeshActors.Transport;

namespace MeshActors.Peers;

/// <summary>
/// A unary call (docs/protocol.md 10) is a channel without a handshake whose peer is its <see cref="UnaryCaller"/>: the
/// same read loop, bad-frame answers and write loop, with the caller's answers as its queue, and an end that comes once
/// the request body has ended and every request is answered.
/// </summary>
internal sealed partial class PeerChannel
{
    /// <summary>Serves a unary call the listener accepted; completes once the call has ended.</summary>
    public static async Task ServeUnaryAsync(MeshChannel channel, PeerChannelSettings settings)
    {
        var call = new PeerChannel(settings, channel, dialTo: null, offerProtocol: false);
        var caller = new UnaryCaller(channel, settings, call.Deliver, call.Signal);
        call._unary = caller;
        using var stopping = channel.ListenerStopping.UnsafeRegister(static state => ((UnaryCaller)state!).OnNodeStopping(), caller);
        if (await call.OpenAsync().ConfigureAwait(false) is not null)
        {
            call.Start(caller.Link, attachment: 1); // a caller's link has this one channel
            await call.EndWhenIdleAsync(caller).ConfigureAwait(false);
        }

        await call.Completion.ConfigureAwait(false);
    }

    // A caller that keeps its body open while it sends nothing and waits for nothing would hold its stream forever:
    // after the liveness timeout of that, the call ends with err timeout, as a hung peer's channel would.
    private async Task EndWhenIdleAsync(UnaryCaller caller)
    {
        var idleLimit = _settings.Options.LivenessTimeout;
        var busyUntil = Environment.TickCount64;
        using var ticks = new PeriodicTimer(_settings.Options.HeartbeatInterval);
        while (await Task.WhenAny(Completion, ticks.WaitForNextTickAsync().AsTask()).ConfigureAwait(false) != Completion)
        {
            var now = Environment.TickCount64;
            if (caller.AwaitsAnswers || Has(States.Paused))
            {
                busyUntil = now; // waiting for this node is not the caller's silence
                continue;
            }

            var quietSince = Math.Max(Math.Max(busyUntil, caller.LastAnswered), Volatile.Read(ref _lastReceived));
            if (!Has(States.Closing) && now - quietSince >= (long)idleLimit.TotalMilliseconds)
            {
                _settings.Totals.OnLivenessTimeout();
                PeerLog.Hung(_settings.Logger, Description, idleLimit.TotalMilliseconds);
                Fail(new MeshProtocolException(ErrorCodes.Timeout,
                    $"Nothing received for {idleLimit.TotalMilliseconds:0} ms and nothing left to answer: the call ends."));
            }
        }
    }
}
