using System.Text;

namespace MeshActors.Protocol;

/// <summary>Turns the UTF-8 topic and service names of incoming frames into strings, reusing the string when a name repeats.</summary>
/// <remarks>
/// A channel sees the same few names over and over; without the cache every frame would allocate its name again.
/// Direct-mapped and bounded: a colliding name replaces the older one, so a peer sending random names costs only misses.
/// One per channel; not thread-safe.
/// </remarks>
internal sealed class Utf8NameCache
{
    private const int Size = 256;
    private const int MaxNameLength = 256;

    private readonly Entry?[] _entries = new Entry?[Size];

    /// <summary>The string for <paramref name="utf8"/>, which must be valid UTF-8.</summary>
    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxNameLength)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        var hash = new HashCode();
        hash.AddBytes(utf8);
        ref var entry = ref _entries[hash.ToHashCode() & (Size - 1)];
        if (entry is not null && utf8.SequenceEqual(entry.Utf8))
        {
            return entry.Value;
        }

        var value = Encoding.UTF8.GetString(utf8);
        entry = new Entry(utf8.ToArray(), value);
        return value;
    }

    private sealed record Entry(byte[] Utf8, string Value);
}
