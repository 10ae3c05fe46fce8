using System.CommandLine;
using System.Diagnostics;
using MeshActors.Cli.Recording;
using Spectre.Console;

namespace MeshActors.Cli.Commands;

/// <summary><c>mesh replay &lt;file&gt; [--rate X] [--immediate]</c>: publishes a recording again, with its original timing by default.</summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The recording to replay." };
        // Bounded: 0 or less means nothing, and a million times is as fast as --immediate.
        var rate = new Option<double>("--rate", "-r") { Description = "Playback speed: 2 plays twice as fast, 0.5 half as fast.", DefaultValueFactory = _ => 1.0 }.Between(0.001, 1_000_000);
        var immediate = new Option<bool>("--immediate") { Description = "Publish as fast as possible, ignoring the recorded timing." };
        var wait = new Option<double>("--wait", "-w") { Description = "Seconds to wait for subscribers of the recorded topics before playing.", DefaultValueFactory = _ => 5.0 }.Seconds();
        var command = new Command("replay", "Publish the messages of a recording again.") { file, rate, immediate, wait };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var speed = parseResult.GetValue(rate);
            var path = parseResult.GetRequiredValue(file);
            using var reader = RecordingReader.Open(path);
            var (total, topics) = await ScanAsync(path, cancellationToken);

            await using var session = await MeshSession.JoinAsync(parseResult, MeshSession.ToolName("replay"), cancellationToken);
            // The messages' topics too: a header may list fewer (or none), and a message published before its
            // subscribers are connected is dropped.
            await WaitForSubscribersAsync(session.Mesh, reader.Header.Topics.Union(topics).ToList(), TimeSpan.FromSeconds(parseResult.GetValue(wait)), cancellationToken);

            var played = 0L;
            var playing = PlayAsync(session.Mesh, reader, parseResult.GetValue(immediate) ? 0 : speed, () => played++, cancellationToken);
            if (Terminal.IsInteractive)
            {
                await AnsiConsole.Progress().StartAsync(async progress =>
                {
                    var task = progress.AddTask($"replaying {Terminal.Escape(Path.GetFileName(path))}", maxValue: Math.Max(1, total));
                    // Not cancellable: a cancelled delay completes at once and the loop would spin until playing stops on Ctrl+C.
                    while (await Task.WhenAny(playing, Task.Delay(100)) != playing)
                        task.Value = Interlocked.Read(ref played);
                    task.Value = task.MaxValue;
                });
            }
            await playing;
            Terminal.Line($"replayed [bold]{played:N0}[/] messages from {Terminal.Escape(path)}", $"replayed {played} messages from {path}");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Publishes each message when its time comes (at <paramref name="speed"/>; 0 for at once), with its JSON and its attachment.</summary>
    private static async Task PlayAsync(IMesh mesh, RecordingReader reader, double speed, Action played, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        foreach (var message in reader.ReadAll(cancellationToken))
        {
            if (speed > 0)
            {
                // In slices a timer can wait: a long recording at a slow rate waits longer than one timer can.
                var at = TimeSpan.FromSeconds(message.Time / speed);
                for (var due = at - Stopwatch.GetElapsedTime(start); due > TimeSpan.Zero; due = at - Stopwatch.GetElapsedTime(start))
                    await Task.Delay(due < TimeSpan.FromDays(1) ? due : TimeSpan.FromDays(1), cancellationToken);
            }
            // JSON and attachment together, as recorded; a bare binary message goes out as null data with its attachment.
            await mesh.PublishAsync(message.Topic, message.Data, message.Attachment, cancellationToken);
            played();
        }
    }

    // The topics at once: the wait (-w) is for all of them, not for each in turn.
    private static Task WaitForSubscribersAsync(IMesh mesh, IReadOnlyList<string> topics, TimeSpan timeout, CancellationToken cancellationToken) =>
        Task.WhenAll(topics.Select(async topic =>
        {
            try
            {
                await mesh.WaitForSubscriberAsync(topic, timeout, cancellationToken);
                await MemberLookup.ConnectToSubscribersAsync(mesh, topic, timeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                Terminal.Note($"nobody listens to '{topic}': its messages will be dropped");
            }
        }));

    /// <summary>How many messages the recording holds, and on which topics.</summary>
    private static Task<(long Count, HashSet<string> Topics)> ScanAsync(string path, CancellationToken cancellationToken) => Task.Run(() =>
    {
        using var reader = RecordingReader.Open(path);
        long count = 0;
        var topics = new HashSet<string>(StringComparer.Ordinal);
        foreach (var message in reader.ReadAll(cancellationToken))
        {
            count++;
            topics.Add(message.Topic);
        }

        return (count, topics);
    }, cancellationToken);
}
