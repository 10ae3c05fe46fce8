using System.CommandLine;
using System.Text.Json;
using MeshActors.Messaging;

namespace MeshActors.Cli.Commands;

/// <summary><c>mesh topic echo &lt;topic&gt;</c>: prints each message on a topic as it arrives; redirected, one JSON value per line.</summary>
internal static class TopicEchoCommand
{
    public static Command Create()
    {
        var topic = new Argument<string>("topic") { Description = "The topic to listen on." };
        var count = new Option<int>("--count", "-c") { Description = "Exit after this many messages; 0 listens until Ctrl+C.", DefaultValueFactory = _ => 0 }.NotNegative();
        var command = new Command("echo", "Print the messages published on a topic.") { topic, count };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var name = parseResult.GetRequiredValue(topic);
            var limit = parseResult.GetValue(count);
            var received = 0;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

            await using var session = await MeshSession.JoinAsync(parseResult, MeshSession.ToolName("echo"), cancellationToken);
            using var subscription = session.Mesh.Subscribe<JsonElement>(name, (message, context) =>
            {
                // A place first: a burst may come in before the subscription ends, and nothing past the count is printed.
                var place = Interlocked.Increment(ref received);
                if (limit > 0 && place > limit)
                    return ValueTask.CompletedTask;
                Print(message, context);
                if (place == limit)
                    done.TrySetResult();
                return ValueTask.CompletedTask;
            });
            await subscription.Ready;
            Terminal.Note($"listening on topic '{name}'");
            await Task.WhenAny(done.Task, cancellationToken.WhenCancelled());
            if (limit > 0 && !done.Task.IsCompleted)
                cancellationToken.ThrowIfCancellationRequested(); // stopped before its count
            return ExitCodes.Success;
        });
        return command;
    }

    private static void Print(JsonElement message, MessageContext context)
    {
        var json = JsonText.Of(message);
        var attachment = context.Attachment.IsEmpty ? "" : $" [grey]+{context.Attachment.Length} bytes[/]";
        Terminal.Line(
            $"[grey]{DateTime.Now:HH:mm:ss.fff}[/] [bold]{Terminal.Escape(context.SenderName)}[/] {Terminal.Escape(json)}{attachment}",
            json);
    }
}
