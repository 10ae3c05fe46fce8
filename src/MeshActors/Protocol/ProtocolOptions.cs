namespace MeshActors.Protocol;

/// <summary>Frame limits and write buffering of the wire protocol (docs/protocol.md, section 3).</summary>
public sealed record ProtocolOptions
{
    /// <summary>The v1 frame limit: 16 MiB, assumed for a peer that does not announce one.</summary>
    public const int DefaultMaxFrameSize = 16 * 1024 * 1024;

    /// <summary>The lowest frame limit a node may set or announce: 64 KiB.</summary>
    public const int SmallestMaxFrameSize = 64 * 1024;

    /// <summary>
    /// Largest frame payload this node accepts, announced to peers as <c>max_frame</c>; a longer length prefix
    /// closes the channel. Default <see cref="DefaultMaxFrameSize"/> (16 MiB): it bounds what one bad prefix can
    /// make a node allocate, fits four times in the default 64 MB send queue, and keeps one frame from holding a
    /// channel for much more than 10 ms. Range 64 KiB to 1 GiB.
    /// </summary>
    public int MaxFrameSize
    {
        get;
        init => field = InRange(value, SmallestMaxFrameSize, 1024 * 1024 * 1024);
    } = DefaultMaxFrameSize;

    /// <summary>
    /// Size of the buffer block the frame writer takes from its pipe at once and fills with many frames. Default
    /// 64 KiB: asking the pipe for space per frame instead of per block costs two thirds of the throughput of
    /// small frames (5.5M against 15-20M frames/s measured here). Range 4 KiB to 16 MiB.
    /// </summary>
    public int WriteBlockSize
    {
        get;
        init => field = InRange(value, 4 * 1024, 16 * 1024 * 1024);
    } = 64 * 1024;

    private static int InRange(int value, int min, int max, [System.Runtime.CompilerServices.CallerMemberName] string name = "")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, min, name);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, max, name);
        return value;
    }
}
