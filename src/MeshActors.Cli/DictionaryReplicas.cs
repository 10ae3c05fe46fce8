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
}
