using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace MeshActors.Cli.Launch;

/// <summary>A launch file: the processes <c>mesh launch</c> starts, in order, like easymesh's <c>meshlaunch</c> (see docs/cli.md).</summary>
internal sealed partial class LaunchFile
{
    /// <summary>The registry every process is given as <c>MESH_DISCOVERY</c>; the launcher's own <c>--discovery</c> when absent.</summary>
    public string? Discovery { get; set; }

    /// <summary>The processes to start, in order.</summary>
    public List<LaunchEntry> Nodes { get; set; } = [];

    public static LaunchFile Load(string path)
    {
        if (!File.Exists(path))
            throw new CliException($"launch file '{path}' does not exist.");
        // A key repeated (two nodes: lists) would drop what came first without a word.
        var deserializer = new DeserializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).WithDuplicateKeyChecking().Build();
        LaunchFile file;
        try
        {
            file = deserializer.Deserialize<LaunchFile?>(File.ReadAllText(path)) ?? new LaunchFile();
        }
        catch (YamlException e)
        {
            // "Exception during deserialization" alone does not say what was wrong; its inner exception does.
            var message = e.InnerException is { } inner ? $"{e.Message}: {inner.Message}" : e.Message;
            throw new CliException($"{path}:{e.Start.Line}:{e.Start.Column}: {AssemblyNoise().Replace(message, "")} (see docs/cli.md, 'mesh launch').");
        }
        // YAML reads an empty 'nodes:' and an empty '-' entry as null: no entries, and an entry without a command.
        file.Nodes ??= [];
        for (var i = 0; i < file.Nodes.Count; i++)
            (file.Nodes[i] ??= new LaunchEntry()).Validate($"{path}: nodes[{i}]");
        return file;
    }

    /// <summary>The ", System.Private.CoreLib, Version=..." tail of the type names in YamlDotNet's messages.</summary>
    [GeneratedRegex(@", [\w.]+, Version=[^,]+, Culture=[^,]+, PublicKeyToken=\w+")]
    private static partial Regex AssemblyNoise();
}
