using System.CommandLine;
using System.Text.Json;
using MeshActors.Replication;

namespace MeshActors.Cli.Commands;

/// <summary><c>mesh dict watch &lt;name&gt;</c>: prints each change of a replicated dictionary as it arrives, until Ctrl+C; redirected, one JSON object per line.</summary>
internal static class DictWatchCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The dictionary." };
        var wait = DictionaryReplicas.WaitOption("it then watches anyway, and shows what a node holds as changes once it opens the dictionary.");
        var command = new Command("watch", "Print each change of a replicated dictionary (key, value, writer) and each conflict as it arrives, until Ctrl+C.") { name, wait };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var dictionaryName = parseResult.GetRequiredValue(name);
            await using var session = await MeshSession.JoinAsync(parseResult, MeshSession.ToolName("dict-watch"), cancellationToken);
            var mesh = session.Mesh;
            ReplicatedDictionary<JsonElement> opened;
            try
            {
                opened = await DictionaryReplicas.OpenAsync(mesh, dictionaryName, TimeSpan.FromSeconds(parseResult.GetValue(wait)), Holders.Awaited, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return ExitCodes.Success; // Ctrl+C is how a watch ends, also while it waits for a node holding the dictionary
            }

            await using var dictionary = opened;
            using var changes = dictionary.OnChanged(change => Print(mesh, change));
            using var conflicts = dictionary.OnConflict(conflict => Print(mesh, conflict));
            Terminal.Note($"watching dictionary '{dictionaryName}' ({dictionary.Count} keys)");
            await cancellationToken.WhenCancelled();
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary><c>{"key":..,"change":"set","value":..,"node":..,"name":..}</c>, or <c>"change":"removed"</c> without a value.</summary>
    private static void Print(IMesh mesh, DictionaryChange<JsonElement> change)
    {
        var removed = change.Kind == DictionaryChangeKind.Removed;
        var what = removed ? "[red]removed[/]" : $"= {Terminal.Escape(JsonText.Readable(change.Value))}";
        Terminal.Line(
            $"[grey]{DateTime.Now:HH:mm:ss.fff}[/] [bold]{Terminal.Escape(change.Key)}[/] {what} [grey]by {Terminal.Escape(DictionaryText.Writer(mesh, change.NodeId))}[/]",
            DictionaryText.JsonLine(json =>
            {
                json.WriteString("key", change.Key);
                json.WriteString("change", removed ? "removed" : "set");
                if (!removed)
                {
                    json.WritePropertyName("value");
                    change.Value.WriteTo(json);
                }

                DictionaryText.WriteNode(json, mesh, change.NodeId);
            }));
    }

    /// <summary><c>{"key":..,"change":"conflict","writes":[..]}</c>, the writes in the order that decides the winner (the last one).</summary>
    private static void Print(IMesh mesh, DictionaryConflict<JsonElement> conflict)
    {
        Terminal.Line(
            $"[grey]{DateTime.Now:HH:mm:ss.fff}[/] [yellow]conflict[/] {Terminal.Escape(DictionaryText.Describe(mesh, conflict))}",
            DictionaryText.JsonLine(json =>
            {
                json.WriteString("key", conflict.Key);
                json.WriteString("change", "conflict");
                json.WritePropertyName("writes");
                DictionaryText.WriteWrites(json, mesh, conflict);
            }));
    }
}
