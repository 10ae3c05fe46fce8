namespace MeshActors.Protocol;

/// <summary>The stream ended in the middle of a frame, or before the attachment an envelope announced.</summary>
public sealed class TruncatedFrameException(string message)
    : MeshProtocolException(ErrorCodes.TruncatedFrame, message);
