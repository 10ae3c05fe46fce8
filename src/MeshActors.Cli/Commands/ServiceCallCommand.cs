using System.CommandLine;
using System.Text.Json;
using MeshActors.Messaging;

namespace MeshActors.Cli.Commands;

/// <summary><c>mesh service call &lt;service&gt; &lt;json&gt;</c>: prints the response, or the remote error as one line with exit code 1.</summary>
internal static class ServiceCallCommand
{
    public static Command Create()
    {
        var service = new Argument<string>("service") { Description = "The service to call." };
        var json = new Argument<string>("json") { Description = "The request, a JSON value, e.g. '{\"x\":1}'." };
        var timeout = new Option<double?>("--timeout", "-t") { Description = "Seconds to wait for the response; the node's request timeout (5 s) when omitted." }.PositiveSeconds();
        var wait = new Option<double>("--wait", "-w") { Description = "Seconds to wait for a node that hosts the service.", DefaultValueFactory = _ => 5.0 }.Seconds();
        var command = new Command("call", "Call a service with a JSON request and print its response.") { service, json, timeout, wait };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            var request = JsonArgument.Parse(parseResult.GetRequiredValue(json), "json");
            var options = new RequestOptions
            {
                Timeout = parseResult.GetValue(timeout) is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
                WaitForProvider = TimeSpan.FromSeconds(parseResult.GetValue(wait)),
            };
            await using var session = await MeshSession.JoinAsync(parseResult, MeshSession.ToolName("call"), cancellationToken);
            var response = await session.Mesh.RequestAsync<JsonElement, JsonElement>(parseResult.GetRequiredValue(service), request, options, cancellationToken);
            Terminal.Line(JsonText.Of(response));
            return ExitCodes.Success;
        });
        return command;
    }
}
