using System.Diagnostics;

namespace MeshActors.Transport.Http2;

/// <summary>The fields a peer's encoder asked to remember (RFC 7541 section 2.3.2): newest first, oldest evicted to keep within the size.</summary>
internal sealed class HpackDynamicTable
{
    /// <summary>What each entry costs beyond its name and value (RFC 7541 section 4.1): an estimate of an implementation's overhead.</summary>
    public const int EntryOverhead = 32;

    // A ring: the newest entry at _newest, older ones before it. Every entry costs at least the overhead, so the table
    // never holds more than maxSize / 32 of them and the ring never grows.
    private readonly KeyValuePair<string, string>[] _entries;
    private int _newest = -1;

    /// <param name="maxSize">The size the table starts with and the most any update may set.</param>
    public HpackDynamicTable(int maxSize)
    {
        _entries = new KeyValuePair<string, string>[Math.Max(1, maxSize / EntryOverhead)];
        MaxSize = maxSize;
    }

    public int Count { get; private set; }

    /// <summary>The sum of the entries' sizes, each its name and value lengths plus <see cref="EntryOverhead"/>.</summary>
    public int Size { get; private set; }

    /// <summary>The most <see cref="Size"/> may reach: the limit at first, then what the last size update set.</summary>
    public int MaxSize { get; private set; }

    /// <summary>The entry at <paramref name="index"/>, 1 being the newest.</summary>
    public KeyValuePair<string, string> this[int index] => _entries[Slot(index - 1)];

    /// <summary>Makes room for the field by evicting the oldest entries, then adds it; a field larger than the table only empties it (RFC 7541 section 4.4).</summary>
    public void Add(string name, string value)
    {
        var size = SizeOf(name, value);
        EvictUntil(MaxSize - size);
        if (size > MaxSize)
        {
            return;
        }

        _newest = (_newest + 1) % _entries.Length;
        _entries[_newest] = new(name, value);
        Count++;
        Size += size;
    }

    /// <summary>Applies a dynamic table size update (RFC 7541 section 4.3); the caller checks it against the limit it advertised.</summary>
    public void Resize(int maxSize)
    {
        Debug.Assert(maxSize / EntryOverhead <= _entries.Length, "The ring was sized for the limit, which no update may exceed.");
        MaxSize = maxSize;
        EvictUntil(maxSize);
    }

    private static int SizeOf(string name, string value) => name.Length + value.Length + EntryOverhead;

    private void EvictUntil(int size)
    {
        while (Count > 0 && Size > size)
        {
            var oldest = Slot(Count - 1);
            Size -= SizeOf(_entries[oldest].Key, _entries[oldest].Value);
            _entries[oldest] = default;
            Count--;
        }
    }

    private int Slot(int age) => (_newest - age + _entries.Length) % _entries.Length;
}
