using System.CommandLine;
using System.Text.Json;
using MeshActors.Replication;

namespace MeshActors.Cli;

/// <summary>What a command opening a dictionary does about the nodes that hold it open already.</summary>
internal enum Holders
{
    /// <summary><c>dict get|set|remove</c>: waits for one and fails when none comes: a replica of its own would hold nothing, and its writes would vanish with it.</summary>
    Required,

    /// <summary><c>dict watch</c>: waits for one, then opens anyway and shows what comes as changes.</summary>
    Awaited,

    /// <summary><c>node --dict</c>: connects to those the registry shows, and opens at once when there is none: the first node to hold it.</summary>
    Known,
}

/// <summary>Opens a replicated dictionary on a command's node, once that node can reach the replicas the mesh has.</summary>
internal static class DictionaryReplicas
{
    /// <summary><c>--wait</c> of the dict commands: how long to wait for a node that holds the dictionary open.</summary>
    public static Option<double> WaitOption(string whenNone) => new Option<double>("--wait", "-w")
    {
        Description = $"Seconds to wait for a node that holds the dictionary open; {whenNone}",
        DefaultValueFactory = _ => 5.0,
    }.Seconds();

    /// <summary>
    /// Opens <paramref name="name"/> with JSON values once this node (which has joined: <see cref="IMesh.Joined"/>) is
    /// connected to every node the registry shows holding it: an open asks only the replicas already connected for their
    /// state, and returns once they all answered (or after 5 s), so the dictionary it returns holds what they held.
    /// </summary>
    public static async Task<ReplicatedDictionary<JsonElement>> OpenAsync(
        IMesh mesh, string name, TimeSpan wait, Holders holders, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(name))
            throw new CliException("A dictionary name cannot be empty.");
        var topic = Topic(name);
        if (holders != Holders.Known || Registered(mesh, topic).Any())
        {
            try
            {
                await mesh.WaitForSubscriberAsync(topic, wait, cancellationToken).ConfigureAwait(false);
                await MemberLookup.ConnectToSubscribersAsync(mesh, topic, wait, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException) when (holders != Holders.Required)
            {
                Terminal.Note(holders == Holders.Awaited
                    ? $"no node holds dictionary '{name}' open yet: waiting for one"
                    : $"{Unreachable(mesh, topic, name, wait)}: opening it with what is reachable");
            }
            catch (TimeoutException)
            {
                throw new CliException(Registered(mesh, topic).Any()
                    ? Unreachable(mesh, topic, name, wait) + "."
                    : $"no node holds dictionary '{name}' open (waited {wait.TotalSeconds:0.###} s); 'mesh node --name N --dict {name}' keeps one open.");
            }
        }

        return await mesh.OpenDictionaryAsync<JsonElement>(name, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The reserved topic the replicas of a dictionary listen on (docs/protocol.md, section 14).</summary>
    private static string Topic(string name) => "$dict/" + name;

    private static IEnumerable<Discovery.MeshMember> Registered(IMesh mesh, string topic) => mesh.Members.Where(m => m.Topics.Contains(topic));

    private static string Unreachable(IMesh mesh, string topic, string name, TimeSpan wait) =>
        $"the nodes holding dictionary '{name}' open ({string.Join(", ", Registered(mesh, topic).Select(m => m.Name))}) could not be reached within {wait.TotalSeconds:0.###} s";
}
