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
        if (await call.OpenAsync().ConfigureAwait(false) is not null)
        {
            call.Start(caller.Link, attach: true);
        }

        await call.Completion.ConfigureAwait(false);
    }
}
