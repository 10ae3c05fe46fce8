using System.CommandLine;
using System.Text.Json;
using MeshActors.Cli.Recording;
using Spectre.Console;

namespace MeshActors.Cli.Commands;

/// <summary><c>mesh record &lt;file&gt; &lt;topics...&gt;</c>: writes every message on the topics to a recording until Ctrl+C.</summary>
internal static class RecordCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The recording to write (JSON lines; see docs/cli.md)." };
        var topics = new Argument<string[]>("topics") { Description = "The topics to record.", Arity = ArgumentArity.OneOrMore };
        var count = new Option<int>("--count", "-c") { Description = "Stop after this many messages; 0 records until Ctrl+C.", DefaultValueFactory = _ => 0 }.NotNegative();
        var command = new Command("record", "Record the messages on some topics to a file.") { file, topics, count };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var path = parseResult.GetRequiredValue(file);
            var names = parseResult.GetRequiredValue(topics).Distinct().ToList();
            var limit = parseResult.GetValue(count);
            var perTopic = names.ToDictionary(t => t, _ => new StrongBox<long>());
            var received = 0L;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

            await using var session = await MeshSession.JoinAsync(parseResult, MeshSession.ToolName("record"), cancellationToken);
            var writer = new RecordingWriter(path, names);
            await using (writer)
            {
                var subscriptions = names.Select(topic => session.Mesh.Subscribe<JsonElement>(topic, (message, context) =>
                {
                    // A place is taken before the message is written: callbacks of two topics run at once.
                    var place = Interlocked.Increment(ref received);
                    if (limit > 0 && place > limit)
                        return ValueTask.CompletedTask;
                    writer.Add(topic, context.SenderName, message, context.Attachment);
                    Interlocked.Increment(ref perTopic[topic].Value);
                    if (place == limit)
                        done.TrySetResult();
                    return ValueTask.CompletedTask;
                })).ToList();
                try
                {
                    await Task.WhenAll(subscriptions.Select(s => s.Ready));
                    Terminal.Note($"recording {string.Join(", ", names)} to {path}; Ctrl+C stops");
                    // The writer ends early only when it failed (a full disk): its disposal below says why.
                    await ShowProgressAsync(Task.WhenAny(done.Task, cancellationToken.WhenCancelled(), writer.Writing), perTopic);
                }
                finally
                {
                    subscriptions.ForEach(s => s.Dispose());
                }
            }
            Terminal.Line($"recorded [bold]{writer.Written:N0}[/] messages to {Terminal.Escape(path)}", $"recorded {writer.Written} messages to {path}");
            if (limit > 0 && !done.Task.IsCompleted)
                cancellationToken.ThrowIfCancellationRequested(); // stopped before its count: 130, the file closed
            return ExitCodes.Success;
        });
        return command;
    }

    private static async Task ShowProgressAsync(Task until, Dictionary<string, StrongBox<long>> perTopic)
    {
        if (!Terminal.IsInteractive)
        {
            await until;
            return;
        }
        var table = new Table().RoundedBorder().AddColumn("TOPIC").AddColumn(new TableColumn("MESSAGES").RightAligned());
        foreach (var topic in perTopic.Keys)
            table.AddRow(Terminal.Escape(topic), "0");
        await AnsiConsole.Live(table).StartAsync(async live =>
        {
            while (await Task.WhenAny(until, Task.Delay(250)) != until)
            {
                var row = 0;
                foreach (var count in perTopic.Values)
                    table.UpdateCell(row++, 1, Interlocked.Read(ref count.Value).ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
                live.Refresh();
            }
        });
    }

    /// <summary>A counter shared with subscription callbacks.</summary>
    private sealed class StrongBox<T>
    {
        public T Value = default!;
    }
}
