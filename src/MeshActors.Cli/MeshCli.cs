using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using MeshActors.Cli.Commands;

namespace MeshActors.Cli;

/// <summary>The <c>mesh</c> command tree.</summary>
internal static class MeshCli
{
    /// <summary>How long a command gets to leave the mesh cleanly after Ctrl+C or SIGTERM before the process exits anyway.</summary>
    private static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(15);

    public static Task<int> InvokeAsync(string[] args)
    {
        var parseResult = Create().Parse(args);
        // The parser's own report puts the whole help text on stdout, where a script reads results: report it as any other failure.
        if (parseResult.Action is ParseErrorAction)
        {
            Terminal.Error(UsageError(parseResult));
            return Task.FromResult(ExitCodes.Failure);
        }
        return parseResult.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = ShutdownGrace });
    }

    /// <summary>One line: the first parse error and where to read the usage, e.g. <c>... Try 'mesh node --help'.</c></summary>
    private static string UsageError(ParseResult parseResult)
    {
        // A word the parser does not know also causes the other errors ('mesh bogus' also misses a command): name it first.
        var error = parseResult.UnmatchedTokens is [var word, ..] ? $"Unrecognized command or argument '{word}'." : parseResult.Errors[0].Message;
        var path = new List<string> { "--help" };
        for (var command = parseResult.CommandResult; command.Parent is CommandResult parent; command = parent)
            path.Insert(0, command.Command.Name);
        return $"{error} Try 'mesh {string.Join(' ', path)}'.";
    }

    public static RootCommand Create()
    {
        var root = new RootCommand("mesh: run MeshActors nodes and talk to a mesh from the command line.")
        {
            CommonOptions.Discovery,
            CommonOptions.TlsCertificate,
            CommonOptions.TlsKey,
            CommonOptions.TlsTrust,
            CommonOptions.LogLevel,
            NodeCommand.Create(),
            ListCommand.Create(),
            PingCommand.Create(),
            new Command("topic", "Publish to and listen on topics.") { TopicEchoCommand.Create(), TopicSendCommand.Create() },
            new Command("service", "Call services.") { ServiceCallCommand.Create() },
            new Command("dict", "Read, write and watch replicated dictionaries; they live on the nodes that hold them open (mesh node --dict NAME).")
            {
                DictGetCommand.Create(), DictSetCommand.Create(), DictRemoveCommand.Create(), DictWatchCommand.Create(),
            },
            new Command("speedtest", "Measure throughput and latency between two processes.") { SpeedtestRecvCommand.Create(), SpeedtestSendCommand.Create() },
            LaunchCommand.Create(),
            RecordCommand.Create(),
            ReplayCommand.Create(),
            InfoCommand.Create(),
        };
        return root;
    }
}
