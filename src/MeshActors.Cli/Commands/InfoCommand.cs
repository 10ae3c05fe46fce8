using System.CommandLine;
using System.Globalization;
using MeshActors.Cli.Recording;
using Spectre.Console;

namespace MeshActors.Cli.Commands;

/// <summary><c>mesh info &lt;file&gt;</c>: what a recording holds: start, duration, size, messages per topic.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The recording to describe." };
        var command = new Command("info", "Describe a recording: duration, size and messages per topic.") { file };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var path = parseResult.GetRequiredValue(file);
            using var reader = RecordingReader.Open(path);
            var perTopic = reader.Header.Topics.ToDictionary(t => t, _ => 0L);
            long messages = 0;
            double duration = 0;
            foreach (var message in reader.ReadAll(cancellationToken))
            {
                perTopic[message.Topic] = perTopic.GetValueOrDefault(message.Topic) + 1;
                messages++;
                duration = Math.Max(duration, message.Time);
            }
            Print(path, reader.Header, new FileInfo(path).Length, messages, duration, perTopic);
            return ExitCodes.Success;
        });
        return command;
    }

    private static void Print(string path, RecordingHeader header, long size, long messages, double duration, Dictionary<string, long> perTopic)
    {
        var facts = new (string Name, string Value)[]
        {
            ("path", path),
            ("started", header.Started.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff 'UTC'", CultureInfo.InvariantCulture)),
            ("duration", duration.ToString("0.000 's'", CultureInfo.InvariantCulture)),
            ("size", size.ToString(CultureInfo.InvariantCulture) + " bytes"),
            ("messages", messages.ToString(CultureInfo.InvariantCulture)),
        };
        if (!Terminal.IsInteractive)
        {
            foreach (var (name, value) in facts)
                Console.Out.WriteLine($"{name}: {value}");
            foreach (var (topic, count) in perTopic.OrderBy(p => p.Key, StringComparer.Ordinal))
                Console.Out.WriteLine($"topic {topic}: {count}");
            return;
        }
        var grid = new Grid().AddColumn().AddColumn();
        foreach (var (name, value) in facts)
            grid.AddRow($"[bold]{name}[/]", Terminal.Escape(value));
        AnsiConsole.Write(grid);
        var table = new Table().RoundedBorder().AddColumn("TOPIC").AddColumn(new TableColumn("MESSAGES").RightAligned());
        foreach (var (topic, count) in perTopic.OrderBy(p => p.Key, StringComparer.Ordinal))
            table.AddRow(Terminal.Escape(topic), count.ToString("N0", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
    }
}
