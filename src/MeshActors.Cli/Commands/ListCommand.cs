using System.CommandLine;
using MeshActors.Discovery;
using Spectre.Console;

namespace MeshActors.Cli.Commands;

/// <summary><c>mesh list</c>: a table of the live nodes: name, id, address, topics, services, age.</summary>
internal static class ListCommand
{
    private static readonly string[] Columns = ["NAME", "ID", "ADDRESS", "TOPICS", "SERVICES", "AGE"];

    public static Command Create()
    {
        var wait = new Option<double>("--wait", "-w")
        {
            Description = "Seconds to listen for registrations before printing; the registry is read at start, this catches nodes that are just joining.",
            DefaultValueFactory = _ => 1.0,
        }.Seconds();
        var command = new Command("list", "List the live nodes of the mesh.") { wait };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            await using var session = await MeshSession.JoinAsync(parseResult, MeshSession.ToolName("list"), cancellationToken);
            await Task.Delay(TimeSpan.FromSeconds(parseResult.GetValue(wait)), cancellationToken);
            var members = session.Mesh.Members.OrderBy(m => m.Name, StringComparer.Ordinal).ThenBy(m => m.Id, StringComparer.Ordinal).ToList();
            Print(members, DateTimeOffset.UtcNow);
            return ExitCodes.Success;
        });
        return command;
    }

    private static void Print(IReadOnlyList<MeshMember> members, DateTimeOffset now)
    {
        var rows = members.Select(m => new[]
        {
            m.Name, m.Id, m.Address, List(m.Topics), List(m.Services), m.StartedAt is { } started ? Age(now - started) : "-",
        }).ToList();

        if (Terminal.IsInteractive)
        {
            var table = new Table().RoundedBorder().Title($"{rows.Count} node{(rows.Count == 1 ? "" : "s")}");
            foreach (var column in Columns)
                table.AddColumn(new TableColumn($"[bold]{column}[/]"));
            foreach (var row in rows)
                table.AddRow(row.Select(cell => new Markup(Terminal.Escape(cell))));
            AnsiConsole.Write(table);
            return;
        }

        // Redirected: aligned columns without borders, one node per line, so that scripts can split on whitespace.
        var widths = Columns.Select((column, i) => rows.Select(r => r[i].Length).Append(column.Length).Max()).ToArray();
        Console.Out.WriteLine(Format(Columns, widths));
        foreach (var row in rows)
            Console.Out.WriteLine(Format(row, widths));
    }

    private static string List(IReadOnlyList<string> items) => items.Count == 0 ? "-" : string.Join(',', items);

    private static string Format(IReadOnlyList<string> cells, int[] widths) =>
        string.Join("  ", cells.Select((cell, i) => i == cells.Count - 1 ? cell : cell.PadRight(widths[i])));

    /// <summary>An age the way <c>kubectl get</c> prints it: 42s, 3m12s, 5h07m, 2d04h.</summary>
    internal static string Age(TimeSpan age) => age switch
    {
        { TotalSeconds: < 0 } => "0s",
        { TotalMinutes: < 1 } => $"{(int)age.TotalSeconds}s",
        { TotalHours: < 1 } => $"{age.Minutes}m{age.Seconds:00}s",
        { TotalDays: < 1 } => $"{age.Hours}h{age.Minutes:00}m",
        _ => $"{(int)age.TotalDays}d{age.Hours:00}h",
    };
}
