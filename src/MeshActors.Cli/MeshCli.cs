using System.CommandLine;
using MeshActors.Cli.Commands;

namespace MeshActors.Cli;

/// <summary>The <c>mesh</c> command tree.</summary>
internal static class MeshCli
{
    /// <summary>How long a command gets to leave the mesh cleanly after Ctrl+C or SIGTERM before the process exits anyway.</summary>
    private static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(15);

    public static Task<int> InvokeAsync(string[] args) =>
        Create().Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = ShutdownGrace });

    public static RootCommand Create()
    {
        var root = new RootCommand("mesh: run MeshActors nodes and talk to a mesh from the command line.")
        {
            CommonOptions.Discovery,
            CommonOptions.LogLevel,
            NodeCommand.Create(),
            ListCommand.Create(),
            PingCommand.Create(),
            new Command("topic", "Publish to and listen on topics.") { TopicEchoCommand.Create(), TopicSendCommand.Create() },
            new Command("service", "Call services.") { ServiceCallCommand.Create() },
            new Command("speedtest", "Measure throughput and latency between two processes.") { SpeedtestRecvCommand.Create(), SpeedtestSendCommand.Create() },
            LaunchCommand.Create(),
            RecordCommand.Create(),
            ReplayCommand.Create(),
            InfoCommand.Create(),
        };
        return root;
    }
}
