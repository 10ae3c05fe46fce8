namespace MeshActors.Peers;

/// <summary>Why a channel ended: the first cause noticed, in words for the log and the disconnect event, and the exception if one was behind it.</summary>
internal sealed record ChannelEnd(string Reason, Exception? Error = null);
