namespace MeshActors.Protocol;

/// <summary>A frame's length is above the limit: a received prefix above this node's maximum, or a send above the peer's.</summary>
public sealed class FrameTooLargeException(long length, int maxFrameSize)
    : MeshProtocolException(ErrorCodes.FrameTooLarge, $"A frame of {length} bytes is above the {maxFrameSize}-byte limit.")
{
    /// <summary>The frame's payload length.</summary>
    public long Length { get; } = length;

    /// <summary>The limit it broke.</summary>
    public int MaxFrameSize { get; } = maxFrameSize;
}
