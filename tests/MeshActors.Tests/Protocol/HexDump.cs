using System.Text;

namespace MeshActors.Tests.Protocol;

/// <summary>The <c>hexdump -C</c> layout docs/protocol.md uses for example frames.</summary>
internal static class HexDump
{
    public static string Format(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder();
        for (var offset = 0; offset < bytes.Length; offset += 16)
        {
            var line = bytes.Slice(offset, Math.Min(16, bytes.Length - offset));
            text.Append($"{offset:x8} ");
            for (var i = 0; i < 16; i++)
            {
                text.Append(i == 8 ? "  " : " ");
                text.Append(i < line.Length ? $"{line[i]:x2}" : "  ");
            }

            text.Append("  |");
            foreach (var b in line)
            {
                text.Append(b is >= 0x20 and < 0x7f ? (char)b : '.');
            }

            text.Append("|\n");
        }

        return text.ToString();
    }
}
