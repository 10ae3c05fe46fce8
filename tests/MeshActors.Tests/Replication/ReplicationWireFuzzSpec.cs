using System.Text.Json;
using MeshActors.Replication;

namespace MeshActors.Tests.Replication;

/// <summary>
/// Whatever a peer publishes on a dictionary's topic, <see cref="ReplicationWire.Decode"/> reads a message or refuses it
/// with a <see cref="FormatException"/>, the one exception the replica catches, counts and logs (docs/replication.md).
/// </summary>
public sealed class ReplicationWireFuzzSpec
{
    /// <summary>What an input that went wrong was, for the failure message.</summary>
    private const string Wrong = "neither read nor refused with a FormatException";

    // docs/protocol.md's examples of section 14, and what the encoder writes for a state with a tombstone and a nested value.
    private static readonly byte[][] Seeds =
    [
        .. ReplicationProtocolDocumentSpec.DictExample().Matches(File.ReadAllText(ReplicationProtocolDocumentSpec.ProtocolDocument()))
            .Select(m => System.Text.Encoding.UTF8.GetBytes(m.Groups["text"].Value.Trim())),
        ReplicationWire.EncodePull("r1"),
        ReplicationWire.Encode(ReplicationWire.State, "r1", final: true,
        [
            KeyValuePair.Create("k", new[]
            {
                Version("r1", 2, removed: false, JsonSerializer.SerializeToElement(new { a = new[] { 1, 2 }, b = "\u00e9" })),
                Version("r2", 1, removed: true, default),
            }),
        ]),
    ];

    [Fact]
    public async Task Decoding_must_refuse_any_mutation_of_a_valid_replication_message_with_a_format_error_and_nothing_else()
    {
        await Task.Run(() => Mutations.AssertEach(Mutations.Of(Seeds, seed: 20261204, count: 20_000), Outcome, Wrong)).WithTimeout();
    }

    [Fact]
    public async Task Decoding_must_refuse_every_truncation_and_every_misplaced_json_character_of_a_pull_with_a_format_error()
    {
        await Task.Run(() => Mutations.AssertEach(Mutations.Exhaustive(ReplicationWire.EncodePull("r1")), Outcome, Wrong)).WithTimeout();
    }

    [Fact]
    public void Every_seed_must_decode()
    {
        Assert.Equal(6, Seeds.Length);
        Assert.All(Seeds, seed => Assert.Empty(ReplicationWire.Decode(seed).Refused));
    }

    // Null when the message was read within the format of docs/protocol.md 14.2 or refused as the replica expects.
    private static string? Outcome(byte[] input)
    {
        try
        {
            var message = ReplicationWire.Decode(input);
            var outOfFormat = message.Entries.SelectMany(entry => entry.Versions)
                .FirstOrDefault(v => v.Stamp is < 1 or > ReplicationWire.MaxCount || v.Vector[v.Replica] < 1 || v.Node.Length == 0);
            return outOfFormat is null ? null : $"read a version out of the format: {outOfFormat}";
        }
        catch (FormatException)
        {
            return null;
        }
        catch (Exception e)
        {
            return $"threw {e.GetType().Name}: {e.Message}";
        }
    }

    private static ReplicaVersion<JsonElement> Version(string replica, long stamp, bool removed, JsonElement value) =>
        new(replica, "node-" + replica, VersionVector.From([new(replica, stamp)]), stamp, removed, value, value);
}
