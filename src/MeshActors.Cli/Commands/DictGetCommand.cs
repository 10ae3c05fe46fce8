using System.Collections.Immutable;
using System.CommandLine;
using System.Text.Json;
using MeshActors.Replication;
using Spectre.Console;

namespace MeshActors.Cli.Commands;

/// <summary>
/// <c>mesh dict get &lt;name&gt; [key]</c>: the value of a key, or a table of every key, as the replicas reachable now
/// hold them; a key with concurrent writes says so.
/// </summary>
internal static class DictGetCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The dictionary." };
        var key = new Argument<string?>("key") { Description = "The key to print; every key and value when omitted.", Arity = ArgumentArity.ZeroOrOne };
        var wait = DictionaryReplicas.WaitOption("fails if none does.");
        var command = new Command("get", "Print a key of a replicated dictionary, or all of it, as the nodes holding it open have it.") { name, key, wait };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var dictionaryName = parseResult.GetRequiredValue(name);
            await using var session = await MeshSession.JoinAsync(parseResult, MeshSession.ToolName("dict-get"), cancellationToken);
            await using var dictionary = await DictionaryReplicas.OpenAsync(
                session.Mesh, dictionaryName, TimeSpan.FromSeconds(parseResult.GetValue(wait)), Holders.Required, cancellationToken);

            // Conflicts is published before Snapshot: read in this order, the conflicts are at least as new as the values.
            var snapshot = dictionary.Snapshot;
            var conflicts = dictionary.Conflicts;
            if (parseResult.GetValue(key) is { } wanted)
                PrintKey(session.Mesh, dictionaryName, wanted, snapshot, conflicts);
            else
                PrintAll(session.Mesh, dictionaryName, snapshot, conflicts);
            return ExitCodes.Success;
        });
        return command;
    }

    private static void PrintKey(
        IMesh mesh, string dictionary, string key, ImmutableDictionary<string, JsonElement> snapshot, ImmutableDictionary<string, DictionaryConflict<JsonElement>> conflicts)
    {
        var present = snapshot.TryGetValue(key, out var value);
        if (conflicts.TryGetValue(key, out var conflict))
            Terminal.Note("conflict: " + DictionaryText.Describe(mesh, conflict));
        if (!present)
            throw new CliException($"key '{key}' is not in dictionary '{dictionary}' ({Keys(snapshot.Count)}).");
        Terminal.Line(JsonText.Readable(value));
    }

    /// <summary>A table on a terminal; redirected, one JSON object per key, <c>{"key":..,"value":..}</c>, with <c>"conflict"</c> listing the concurrent writes.</summary>
    private static void PrintAll(
        IMesh mesh, string dictionary, ImmutableDictionary<string, JsonElement> snapshot, ImmutableDictionary<string, DictionaryConflict<JsonElement>> conflicts)
    {
        // A key whose winning write is a remove is absent from the snapshot, yet in conflict: it is listed too.
        var keys = snapshot.Keys.Union(conflicts.Keys).Order(StringComparer.Ordinal).ToList();
        if (!Terminal.IsInteractive)
        {
            foreach (var key in keys)
                Console.Out.WriteLine(DictionaryText.JsonLine(json => WriteEntry(json, mesh, key, snapshot, conflicts)));
            return;
        }

        var table = new Table().RoundedBorder().Title($"{Terminal.Escape(dictionary)}: {Keys(snapshot.Count)}");
        table.AddColumn(new TableColumn("[bold]KEY[/]"));
        table.AddColumn(new TableColumn("[bold]VALUE[/]"));
        if (!conflicts.IsEmpty)
            table.AddColumn(new TableColumn("[bold]CONFLICT[/]"));
        foreach (var key in keys)
        {
            var value = snapshot.TryGetValue(key, out var shown) ? Terminal.Escape(JsonText.Readable(shown)) : "[grey](removed)[/]";
            var cells = new List<string> { Terminal.Escape(key), value };
            if (!conflicts.IsEmpty)
            {
                cells.Add(conflicts.TryGetValue(key, out var conflict)
                    ? $"[yellow]{Terminal.Escape(string.Join("; ", conflict.Writes.Select(write => DictionaryText.Describe(mesh, write))))}[/]"
                    : "");
            }

            table.AddRow(cells.Select(cell => new Markup(cell)));
        }

        AnsiConsole.Write(table);
    }

    private static void WriteEntry(
        Utf8JsonWriter json, IMesh mesh, string key, ImmutableDictionary<string, JsonElement> snapshot, ImmutableDictionary<string, DictionaryConflict<JsonElement>> conflicts)
    {
        json.WriteString("key", key);
        if (snapshot.TryGetValue(key, out var value))
        {
            json.WritePropertyName("value");
            value.WriteTo(json);
        }
        else
        {
            json.WriteBoolean("removed", true);
        }

        if (conflicts.TryGetValue(key, out var conflict))
        {
            json.WritePropertyName("conflict");
            DictionaryText.WriteWrites(json, mesh, conflict);
        }
    }

    private static string Keys(int count) => count == 1 ? "1 key" : $"{count} keys";
}
