using System.CommandLine;

namespace MeshActors.Cli.Commands;

/// <summary><c>mesh dict remove &lt;name&gt; &lt;key&gt;</c>: removes one key everywhere; a key that is not there is an error.</summary>
internal static class DictRemoveCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The dictionary." };
        var key = new Argument<string>("key") { Description = "The key to remove." };
        var wait = DictionaryReplicas.WaitOption("fails if none does.");
        var command = new Command("remove", "Remove a key from a replicated dictionary; fails when the key is not there. " + DictSetCommand.Done) { name, key, wait };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var (dictionaryName, keyName) = (parseResult.GetRequiredValue(name), parseResult.GetRequiredValue(key));
            await using var session = await MeshSession.JoinAsync(parseResult, MeshSession.ToolName("dict-remove"), cancellationToken);
            await using var dictionary = await DictionaryReplicas.OpenAsync(
                session.Mesh, dictionaryName, TimeSpan.FromSeconds(parseResult.GetValue(wait)), Holders.Required, cancellationToken);
            if (!await dictionary.RemoveAsync(keyName, cancellationToken))
                throw new CliException($"key '{keyName}' is not in dictionary '{dictionaryName}': nothing removed.");
            Terminal.Note($"removed '{keyName}' from dictionary '{dictionaryName}'");
            return ExitCodes.Success;
        });
        return command;
    }
}
