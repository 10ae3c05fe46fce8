namespace MeshActors.Replication;

/// <summary>An immutable version vector: for each replica, how many of its writes to one key are known.</summary>
/// <remarks>Kept sorted by replica id (ordinal), so that comparing and joining are one merge walk over two short arrays.</remarks>
internal sealed class VersionVector
{
    private readonly KeyValuePair<string, long>[] _counts;

    private VersionVector(KeyValuePair<string, long>[] sortedCounts) => _counts = sortedCounts;

    public static VersionVector Empty { get; } = new([]);

    /// <summary>The replicas and their counts, by replica id.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Counts => _counts;

    /// <summary>Builds a vector from counts in any order; a replica given twice keeps its higher count.</summary>
    public static VersionVector From(IEnumerable<KeyValuePair<string, long>> counts)
    {
        var sorted = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (replica, count) in counts)
            sorted[replica] = Math.Max(count, sorted.GetValueOrDefault(replica));
        return new VersionVector(sorted.ToArray());
    }

    /// <summary>The count of <paramref name="replica"/>; 0 when it never wrote.</summary>
    public long this[string replica]
    {
        get
        {
            foreach (var (id, count) in _counts)
            {
                if (id == replica)
                    return count;
            }

            return 0;
        }
    }

    /// <summary>This vector with <paramref name="replica"/>'s count one higher: a new write by it.</summary>
    /// <exception cref="OverflowException">The count is at <see cref="long.MaxValue"/>: a wrapped count would make the write look known already.</exception>
    public VersionVector Increment(string replica) =>
        From(_counts.Append(new KeyValuePair<string, long>(replica, checked(this[replica] + 1))));

    /// <summary>The smallest vector that both this one and <paramref name="other"/> precede: every write either has seen.</summary>
    public VersionVector Join(VersionVector other)
    {
        var joined = new List<KeyValuePair<string, long>>(Math.Max(_counts.Length, other._counts.Length));
        Walk(other, (replica, mine, theirs) => joined.Add(new KeyValuePair<string, long>(replica, Math.Max(mine, theirs))));
        return new VersionVector(joined.ToArray());
    }

    /// <summary>How this vector relates to <paramref name="other"/>.</summary>
    public Causality Compare(VersionVector other)
    {
        bool ahead = false, behind = false;
        Walk(other, (_, mine, theirs) =>
        {
            ahead |= mine > theirs;
            behind |= mine < theirs;
        });
        return (ahead, behind) switch
        {
            (false, false) => Causality.Equal,
            (true, false) => Causality.After,
            (false, true) => Causality.Before,
            _ => Causality.Concurrent,
        };
    }

    /// <inheritdoc />
    public override string ToString() => "{" + string.Join(", ", _counts.Select(count => $"{count.Key}: {count.Value}")) + "}";

    /// <summary>Calls <paramref name="visit"/> with each replica of either vector, in order, and both counts (0 where absent).</summary>
    private void Walk(VersionVector other, Action<string, long, long> visit)
    {
        int i = 0, j = 0;
        var (mine, theirs) = (_counts, other._counts);
        while (i < mine.Length || j < theirs.Length)
        {
            var order = i == mine.Length ? 1 : j == theirs.Length ? -1 : string.CompareOrdinal(mine[i].Key, theirs[j].Key);
            if (order < 0)
            {
                visit(mine[i].Key, mine[i].Value, 0);
                i++;
            }
            else if (order > 0)
            {
                visit(theirs[j].Key, 0, theirs[j].Value);
                j++;
            }
            else
            {
                visit(mine[i].Key, mine[i].Value, theirs[j].Value);
                i++;
                j++;
            }
        }
    }
}
