using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace MeshActors.Discovery;

/// <summary>Warns once per bad registry entry and reason, not at every heartbeat, and counts each warning.</summary>
/// <remarks>An entry that is repaired and later breaks again is warned about again.</remarks>
internal sealed class SkippedEntryLog(ILogger logger)
{
    private static readonly Meter Meter = new("MeshActors.Discovery");
    private static readonly Counter<long> SkippedEntries = Meter.CreateCounter<long>("meshactors.discovery.skipped_entries", description: "Registry entries (once per entry and reason) and announcements (each) skipped as garbage.");

    private const int MaxAnnouncementProblems = 256;

    private readonly Lock _gate = new();
    private Dictionary<string, string> _warned = new(StringComparer.Ordinal);
    private readonly HashSet<string> _announcementProblems = new(StringComparer.Ordinal);

    /// <summary>Takes the entries skipped by one full listing; forgets entries that are gone or repaired.</summary>
    public void Listed(IReadOnlyList<SkippedEntry> skipped)
    {
        var current = new Dictionary<string, string>(skipped.Count, StringComparer.Ordinal);
        lock (_gate)
        {
            foreach (var entry in skipped)
            {
                if (!_warned.TryGetValue(entry.Key, out var reason) || reason != entry.Reason)
                    Warn(entry);
                current[entry.Key] = entry.Reason;
            }

            _warned = current;
        }
    }

    /// <summary>Takes one bad announcement: counted every time, logged once per distinct problem (up to a bound, so a flood cannot fill the log).</summary>
    public void BadAnnouncement(string channel, string reason)
    {
        SkippedEntries.Add(1);
        lock (_gate)
        {
            if (_announcementProblems.Count >= MaxAnnouncementProblems || !_announcementProblems.Add(reason))
                return;
        }

        DiscoveryLog.BadAnnouncement(logger, channel, reason);
    }

    private void Warn(SkippedEntry entry)
    {
        SkippedEntries.Add(1);
        DiscoveryLog.SkippedEntry(logger, entry.Key, entry.Reason);
    }
}
