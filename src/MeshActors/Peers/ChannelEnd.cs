namespace MeshActors.Peers;

/// <summary>Why a channel ended: the first cause noticed, in words for the log and the disconnect event, and the exception if one was behind it.</summary>
/// <param name="Reason">In words, for the log and the disconnect event.</param>
/// <param name="Error">The exception behind it, if any.</param>
/// <param name="PeerKeptAnother">The peer ended it as a duplicate (<c>bye duplicate</c>): it keeps another channel, maybe not handshaken here yet.</param>
internal sealed record ChannelEnd(string Reason, Exception? Error = null, bool PeerKeptAnother = false);
