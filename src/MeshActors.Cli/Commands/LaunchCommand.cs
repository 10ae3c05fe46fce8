using System.CommandLine;
using System.Runtime.InteropServices;
using MeshActors.Cli.Launch;

namespace MeshActors.Cli.Commands;

/// <summary><c>mesh launch &lt;file.yaml&gt;</c>: starts the processes of a launch file and stops them together (like easymesh's meshlaunch).</summary>
internal static class LaunchCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The launch file (YAML); see docs/cli.md.", DefaultValueFactory = _ => "launch.yaml" };
        var command = new Command("launch", "Start the processes of a launch file; Ctrl+C stops them all (SIGTERM, then SIGKILL after 10 s).") { file };
        CliAction.Set(command, async (parseResult, cancellationToken) =>
        {
            using var launcher = new Launcher(LaunchFile.Load(parseResult.GetRequiredValue(file)), parseResult.GetRequiredValue(CommonOptions.Discovery), Tls.From(parseResult));
            // The children run in sessions of their own, so a closed terminal hangs up only the launcher: SIGHUP stops
            // them as SIGTERM does, rather than killing the launcher and leaving them running.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                context.Cancel = true;
                stop.Cancel();
            });
            return await launcher.RunAsync(stop.Token);
        });
        return command;
    }
}
