using System.CommandLine;

namespace MeshActors.Cli.Commands;

/// <summary><c>mesh topic send &lt;topic&gt; &lt;json&gt;</c>: publishes one message, once some node listens to the topic.</summary>
internal static class TopicSendCommand
{
    public static Command Create()
    {
        var topic = new Argument<string>("topic") { Description = "The topic to publish on." };
        var json = new Argument<string>("json") { Description = "The message, a JSON value, e.g. '{\"x\":1}'." };
        var wait = new Option<double>("--wait", "-w")
        {
            Description = "Seconds to wait for a subscriber; messages to a topic nobody listens to are dropped, so sending without one fails.",
            DefaultValueFactory = _ => 5.0,
        }.Seconds();
        var command = new Command("send", "Publish a JSON message on a topic.") { topic, json, wait };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var name = parseResult.GetRequiredValue(topic);
            var message = JsonArgument.Parse(parseResult.GetRequiredValue(json), "json");
            await using var session = await MeshSession.JoinAsync(parseResult, MeshSession.ToolName("send"), cancellationToken);
            var waitFor = TimeSpan.FromSeconds(parseResult.GetValue(wait));
            await session.Mesh.WaitForSubscriberAsync(name, waitFor, cancellationToken);
            await MemberLookup.ConnectToSubscribersAsync(session.Mesh, name, waitFor, cancellationToken);
            await session.Mesh.PublishAsync(name, message, cancellationToken);
            Terminal.Note($"sent to topic '{name}'");
            return ExitCodes.Success;
        });
        return command;
    }
}
