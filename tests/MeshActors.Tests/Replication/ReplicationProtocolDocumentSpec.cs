using System.Text;
using System.Text.RegularExpressions;
using MeshActors.Replication;

namespace MeshActors.Tests.Replication;

/// <summary>docs/protocol.md section 14 and the code must say the same: each example message reads, the encoder writes the same shape, and a state keeps to its message limit (14.3).</summary>
public sealed partial class ReplicationProtocolDocumentSpec
{
    [Fact]
    public void Every_replication_example_in_the_specification_must_read_as_the_code_reads_it()
    {
        var examples = DictExample().Matches(File.ReadAllText(ProtocolDocument())).ToDictionary(m => m.Groups["name"].Value, m => m.Groups["text"].Value.Trim());
        Assert.Equal(["delta", "pull", "remove", "state"], examples.Keys.Order());

        var delta = ReplicationWire.Decode(Encoding.UTF8.GetBytes(examples["delta"]));
        var (key, versions) = Assert.Single(delta.Entries);
        Assert.Equal(("delta", "apples", 17, 2), (delta.Kind, key, Assert.Single(versions).Stamp, versions[0].Vector.Counts.Count));
        Assert.True(ReplicationWire.Decode(Encoding.UTF8.GetBytes(examples["remove"])).Entries[0].Versions[0].Removed);
        Assert.Equal("pull", ReplicationWire.Decode(Encoding.UTF8.GetBytes(examples["pull"])).Kind);
        var state = ReplicationWire.Decode(Encoding.UTF8.GetBytes(examples["state"]));
        Assert.True(state.Final);
        Assert.Equal(2, state.Entries[0].Versions.Count);

        // What the encoder writes for the delta's version is the example, byte for byte.
        var wire = versions[0];
        var version = new ReplicaVersion<int>(wire.Replica, wire.Node, wire.Vector, wire.Stamp, wire.Removed, wire.Raw, 12);
        var encoded = Encoding.UTF8.GetString(ReplicationWire.Encode(ReplicationWire.Delta, delta.Replica, final: false, [KeyValuePair.Create(key, new[] { version })]));
        Assert.Equal(examples["delta"], encoded);
        Assert.Equal(examples["pull"], Encoding.UTF8.GetString(ReplicationWire.EncodePull("9d8e7f6a5b4c4d3e8f2a1b0c9d8e7f6a")));
    }

    [Fact]
    public void A_state_must_be_cut_into_messages_within_the_limit_leaving_out_only_an_entry_too_large_alone()
    {
        var entries = Enumerable.Range(0, 100).Select(i => Entry("k" + i, new string('x', 500))).Append(Entry("huge", new string('x', 5000))).ToList();

        var chunks = ReplicationWire.EncodeState("r", null, entries, 4096, 4096, out var skipped);

        Assert.All(chunks, chunk => Assert.InRange(chunk.Length, 1, 4096));
        var read = chunks.Select(chunk => ReplicationWire.Decode(chunk)).ToList();
        Assert.Equal(Enumerable.Range(0, 100).Select(i => "k" + i), read.SelectMany(message => message.Entries).Select(entry => entry.Key));
        Assert.True(read[^1].Final);
        Assert.All(read[..^1], message => Assert.False(message.Final));
        Assert.Equal("huge", Assert.Single(skipped).Key);

        static KeyValuePair<string, ReplicaVersion<string>[]> Entry(string key, string value) => KeyValuePair.Create(key, new[]
        {
            new ReplicaVersion<string>("r", "n", VersionVector.From([new("r", 1)]), 1, false, System.Text.Json.JsonSerializer.SerializeToElement(value), value),
        });
    }

    internal static string ProtocolDocument()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var path = Path.Combine(directory.FullName, "docs", "protocol.md");
            if (File.Exists(path))
                return path;
        }

        throw new FileNotFoundException("docs/protocol.md not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"<!-- dict:(?<name>[\w-]+) -->\n```json\n(?<text>.*?)```", RegexOptions.Singleline)]
    internal static partial Regex DictExample();
}
