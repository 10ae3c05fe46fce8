using System.Buffers.Binary;

namespace MeshActors.Transport.Http2;

/// <summary>The small frames a connection sends besides its stream's data, each a complete frame ready to send.</summary>
internal static class Http2ControlFrame
{
    public static byte[] Settings(params ReadOnlySpan<(Http2Setting Setting, uint Value)> settings)
    {
        var frame = Frame(Http2FrameType.Settings, Http2Flags.None, 0, settings.Length * 6);
        var payload = frame.AsSpan(Http2FrameHeader.Size);
        foreach (var (setting, value) in settings)
        {
            BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)setting);
            BinaryPrimitives.WriteUInt32BigEndian(payload[2..], value);
            payload = payload[6..];
        }

        return frame;
    }

    public static byte[] SettingsAck() => Frame(Http2FrameType.Settings, Http2Flags.Ack, 0, 0);

    public static byte[] WindowUpdate(int streamId, int increment)
    {
        var frame = Frame(Http2FrameType.WindowUpdate, Http2Flags.None, streamId, 4);
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(Http2FrameHeader.Size), increment);
        return frame;
    }

    public static byte[] Ping(long opaque, bool ack)
    {
        var frame = Frame(Http2FrameType.Ping, ack ? Http2Flags.Ack : Http2Flags.None, 0, 8);
        BinaryPrimitives.WriteInt64BigEndian(frame.AsSpan(Http2FrameHeader.Size), opaque);
        return frame;
    }

    public static byte[] RstStream(int streamId, Http2ErrorCode code)
    {
        var frame = Frame(Http2FrameType.RstStream, Http2Flags.None, streamId, 4);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(Http2FrameHeader.Size), (uint)code);
        return frame;
    }

    public static byte[] GoAway(int lastStreamId, Http2ErrorCode code)
    {
        var frame = Frame(Http2FrameType.GoAway, Http2Flags.None, 0, 8);
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(Http2FrameHeader.Size), lastStreamId);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(Http2FrameHeader.Size + 4), (uint)code);
        return frame;
    }

    private static byte[] Frame(Http2FrameType type, Http2Flags flags, int streamId, int length)
    {
        var frame = new byte[Http2FrameHeader.Size + length];
        new Http2FrameHeader(length, type, flags, streamId).Write(frame);
        return frame;
    }
}

/// <summary>What opens a channel's stream: the request's pseudo-headers and its other fields (lower-case names, ASCII values).</summary>
internal sealed record RequestHeaders(string Scheme, string Authority, string Path, IReadOnlyList<KeyValuePair<string, string>> Fields);
