using System.Buffers.Binary;

namespace MeshActors.Transport.Http2;

/// <summary>The frame types an HTTP/2 client meets (RFC 9113 section 6).</summary>
internal enum Http2FrameType : byte
{
    Data = 0x0,
    Headers = 0x1,
    Priority = 0x2,
    RstStream = 0x3,
    Settings = 0x4,
    PushPromise = 0x5,
    Ping = 0x6,
    GoAway = 0x7,
    WindowUpdate = 0x8,
    Continuation = 0x9,
}

/// <summary>Frame flags; each is meaningful on the frame types RFC 9113 gives it.</summary>
[Flags]
internal enum Http2Flags : byte
{
    None = 0,
    EndStream = 0x1, // DATA, HEADERS
    Ack = 0x1, // SETTINGS, PING
    EndHeaders = 0x4, // HEADERS, CONTINUATION
    Padded = 0x8, // DATA, HEADERS
    Priority = 0x20, // HEADERS
}

/// <summary>Error codes of RST_STREAM and GOAWAY (RFC 9113 section 7).</summary>
internal enum Http2ErrorCode : uint
{
    NoError = 0x0,
    ProtocolError = 0x1,
    InternalError = 0x2,
    FlowControlError = 0x3,
    SettingsTimeout = 0x4,
    StreamClosed = 0x5,
    FrameSizeError = 0x6,
    RefusedStream = 0x7,
    Cancel = 0x8,
    CompressionError = 0x9,
    ConnectError = 0xa,
    EnhanceYourCalm = 0xb,
    InadequateSecurity = 0xc,
    Http11Required = 0xd,
}

/// <summary>SETTINGS parameters (RFC 9113 section 6.5.2).</summary>
internal enum Http2Setting : ushort
{
    HeaderTableSize = 0x1,
    EnablePush = 0x2,
    MaxConcurrentStreams = 0x3,
    InitialWindowSize = 0x4,
    MaxFrameSize = 0x5,
    MaxHeaderListSize = 0x6,
}

/// <summary>The nine bytes in front of every frame: payload length (24 bits), type, flags, stream id (31 bits).</summary>
internal readonly record struct Http2FrameHeader(int Length, Http2FrameType Type, Http2Flags Flags, int StreamId)
{
    public const int Size = 9;

    /// <summary>The protocol's smallest and largest SETTINGS_MAX_FRAME_SIZE.</summary>
    public const int MinMaxFrameSize = 16 * 1024, MaxMaxFrameSize = (1 << 24) - 1;

    /// <summary>The largest flow-control window (2^31-1).</summary>
    public const int MaxWindow = int.MaxValue;

    /// <summary>What a client sends first on a connection (RFC 9113 section 3.4).</summary>
    public static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    public bool Has(Http2Flags flag) => (Flags & flag) != 0;

    public static Http2FrameHeader Read(ReadOnlySpan<byte> source) => new(
        source[0] << 16 | source[1] << 8 | source[2],
        (Http2FrameType)source[3],
        (Http2Flags)source[4],
        (int)(BinaryPrimitives.ReadUInt32BigEndian(source[5..]) & 0x7fff_ffff));

    public void Write(Span<byte> destination)
    {
        destination[0] = (byte)(Length >> 16);
        destination[1] = (byte)(Length >> 8);
        destination[2] = (byte)Length;
        destination[3] = (byte)Type;
        destination[4] = (byte)Flags;
        BinaryPrimitives.WriteUInt32BigEndian(destination[5..], (uint)StreamId);
    }
}
