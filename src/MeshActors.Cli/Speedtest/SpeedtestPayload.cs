using System.Buffers.Binary;
using System.Diagnostics;

namespace MeshActors.Cli.Speedtest;

/// <summary>The bytes of one speed-test message: a 16-byte header, then padding up to the message size.</summary>
/// <remarks>
/// Layout (little-endian): bytes 0-7 the send time as <see cref="Stopwatch.GetTimestamp"/> (CLOCK_MONOTONIC on Linux,
/// shared by every process on the machine, so one-way latency is a subtraction); bytes 8-11 the run id, so a
/// receiver ignores stragglers of an earlier run; byte 12 the phase (0 warm-up, 1 measured). The message travels
/// as a binary attachment, so its size is the payload size exactly, without JSON or base64 overhead.
/// </remarks>
internal static class SpeedtestPayload
{
    /// <summary>The smallest message: the header alone.</summary>
    public const int HeaderSize = 16;

    public static byte[] Create(int size, long timestamp, int run, bool measured)
    {
        var payload = GC.AllocateUninitializedArray<byte>(size);
        var header = payload.AsSpan(0, HeaderSize);
        BinaryPrimitives.WriteInt64LittleEndian(header, timestamp);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], run);
        header[12] = measured ? (byte)1 : (byte)0;
        return payload;
    }

    public static bool TryRead(ReadOnlySpan<byte> payload, out long timestamp, out int run, out bool measured)
    {
        if (payload.Length < HeaderSize)
        {
            (timestamp, run, measured) = (0, 0, false);
            return false;
        }
        timestamp = BinaryPrimitives.ReadInt64LittleEndian(payload);
        run = BinaryPrimitives.ReadInt32LittleEndian(payload[8..]);
        measured = payload[12] == 1;
        return true;
    }

    /// <summary>Microseconds from <paramref name="from"/> to <paramref name="to"/>, both <see cref="Stopwatch.GetTimestamp"/> readings.</summary>
    public static long Microseconds(long from, long to) => (long)((to - from) * (1_000_000.0 / Stopwatch.Frequency));
}
