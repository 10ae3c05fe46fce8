using System.CommandLine;
using System.Text.Json;
using MeshActors.Replication;

namespace MeshActors.Cli;

/// <summary>Opens a replicated dictionary on a command's short-lived node, once that node can reach the replicas the mesh has.</summary>
internal static class DictionaryReplicas
{
    /// <summary><c>--wait</c> of the dict commands: how long to wait for a node that holds the dictionary open.</summary>
    public static Option<double> WaitOption(string whenNone) => new Option<double>("--wait", "-w")
    {
        Description = $"Seconds to wait for a node that holds the dictionary open; {whenNone}",
        DefaultValueFactory = _ => 5.0,
    }.Seconds();

    /// <summary>
    /// Opens <paramref name="name"/> with JSON values once this node is connected to every node the registry shows holding
    /// it: an open asks only the replicas already connected for their state, and returns once they all answered (or
    /// after 5 s), so the dictionary it returns holds what those replicas held. Fails when no node holds it within
    /// <paramref name="wait"/>, unless <paramref name="mayBeAlone"/>: a replica of its own would hold nothing, and its writes
    /// would vanish with it.
    /// </summary>
    public static async Task<ReplicatedDictionary<JsonElement>> OpenAsync(
        IMesh mesh, string name, TimeSpan wait, bool mayBeAlone, CancellationToken cancellationToken)
    {
        var topic = Topic(name);
        try
        {
            await mesh.WaitForSubscriberAsync(topic, wait, cancellationToken).ConfigureAwait(false);
            await MemberLookup.ConnectToSubscribersAsync(mesh, topic, wait, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException) when (mayBeAlone)
        {
            Terminal.Note($"no node holds dictionary '{name}' open yet: waiting for one");
        }
        catch (TimeoutException)
        {
            throw new CliException($"no node holds dictionary '{name}' open (waited {wait.TotalSeconds:0.###} s); 'mesh node --name N --dict {name}' keeps one open.");
        }

        return await mesh.OpenDictionaryAsync<JsonElement>(name, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The reserved topic the replicas of a dictionary listen on (docs/protocol.md, section 14).</summary>
    private static string Topic(string name) => "$dict/" + name;

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
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, JsonText.Relaxed))
        {
            json.WriteStartObject();
            write(json);
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
