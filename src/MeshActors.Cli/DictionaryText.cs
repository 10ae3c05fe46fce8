using System.Buffers;
using System.Text;
using System.Text.Json;
using MeshActors.Replication;

namespace MeshActors.Cli;

/// <summary>How the dict commands show writers, concurrent writes and JSON lines.</summary>
internal static class DictionaryText
{
    /// <summary>A node as a person knows it: its name when the registry shows it, with its id; the id alone otherwise (it left).</summary>
    public static string Writer(IMesh mesh, string nodeId) =>
        mesh.Members.FirstOrDefault(member => member.Id == nodeId) is { } member ? $"{member.Name} ({nodeId})" : nodeId;

    /// <summary>The name of the node with id <paramref name="nodeId"/>, or null when the registry does not show it.</summary>
    public static string? NodeName(IMesh mesh, string nodeId) => mesh.Members.FirstOrDefault(member => member.Id == nodeId)?.Name;

    /// <summary>A concurrent write as one phrase: <c>1 from a (id)</c> or <c>removed by a (id)</c>.</summary>
    public static string Describe(IMesh mesh, DictionaryWrite<JsonElement> write) =>
        write.Removed ? $"removed by {Writer(mesh, write.NodeId)}" : $"{JsonText.Readable(write.Value)} from {Writer(mesh, write.NodeId)}";

    /// <summary>A conflict as one line: every concurrent write, and what the key shows.</summary>
    public static string Describe(IMesh mesh, DictionaryConflict<JsonElement> conflict) =>
        $"'{conflict.Key}' holds concurrent writes: {string.Join("; ", conflict.Writes.Select(write => Describe(mesh, write)))}; "
        + (conflict.Winner.Removed && !conflict.Resolved ? "shows it removed" : $"shows {JsonText.Readable(conflict.Value)}");

    /// <summary>Writes the concurrent writes of <paramref name="conflict"/> as the JSON array <c>[{"node":..,"name":..,"value":..}, {"node":..,"removed":true}]</c>.</summary>
    public static void WriteWrites(Utf8JsonWriter json, IMesh mesh, DictionaryConflict<JsonElement> conflict)
    {
        json.WriteStartArray();
        foreach (var write in conflict.Writes)
        {
            json.WriteStartObject();
            WriteNode(json, mesh, write.NodeId);
            if (write.Removed)
            {
                json.WriteBoolean("removed", true);
            }
            else
            {
                json.WritePropertyName("value");
                write.Value.WriteTo(json);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    /// <summary>Writes <c>"node":id</c>, and <c>"name":..</c> when the registry shows the node.</summary>
    public static void WriteNode(Utf8JsonWriter json, IMesh mesh, string nodeId)
    {
        json.WriteString("node", nodeId);
        if (NodeName(mesh, nodeId) is { } name)
            json.WriteString("name", name);
    }

    /// <summary>One JSON object on one line, written by <paramref name="write"/>.</summary>
    public static string JsonLine(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, JsonText.Relaxed))
        {
            json.WriteStartObject();
            write(json);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
