using System.CommandLine;

namespace MeshActors.Cli.Commands;

/// <summary><c>mesh dict set &lt;name&gt; &lt;key&gt; &lt;json&gt;</c>: writes one key, on a replica of its own that goes once the write is on its way to the others.</summary>
internal static class DictSetCommand
{
    /// <summary>What "done" means for a write, in the help of set and remove: the dictionary acknowledges no write.</summary>
    public const string Done =
        "Exit 0 means: applied on this command's replica and queued for every replica it is connected to, which its node writes out before leaving the mesh; no replica acknowledges a write.";

    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The dictionary." };
        var key = new Argument<string>("key") { Description = "The key to set." };
        var json = new Argument<string>("json") { Description = "The value, a JSON value, e.g. '{\"x\":1}' or '\"text\"'." };
        var wait = DictionaryReplicas.WaitOption("fails if none does: a replica of this command's own would take the value away with it.");
        var command = new Command("set", "Set a key of a replicated dictionary to a JSON value. " + Done) { name, key, json, wait };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var (dictionaryName, keyName) = (parseResult.GetRequiredValue(name), parseResult.GetRequiredValue(key));
            var value = JsonArgument.Parse(parseResult.GetRequiredValue(json), "json");
            await using var session = await MeshSession.JoinAsync(parseResult, MeshSession.ToolName("dict-set"), cancellationToken);
            await using var dictionary = await DictionaryReplicas.OpenAsync(
                session.Mesh, dictionaryName, TimeSpan.FromSeconds(parseResult.GetValue(wait)), Holders.Required, cancellationToken);
            await dictionary.SetAsync(keyName, value, cancellationToken);
            Terminal.Note($"set '{keyName}' in dictionary '{dictionaryName}'");
            return ExitCodes.Success;
        });
        return command;
    }
}
