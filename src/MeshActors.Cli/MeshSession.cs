using System.CommandLine;
using MeshActors.Discovery;
using MeshActors.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace MeshActors.Cli;

/// <summary>The node a command runs on, with the logger factory it logs through; disposing it leaves the mesh cleanly.</summary>
internal sealed class MeshSession : IAsyncDisposable
{
    private readonly ILoggerFactory _loggerFactory;

    private MeshSession(IMesh mesh, ILoggerFactory loggerFactory)
    {
        Mesh = mesh;
        _loggerFactory = loggerFactory;
    }

    /// <summary>Starts a node; the one place the CLI meets the node implementation.</summary>
    internal static Func<MeshOptions, CancellationToken, Task<IMesh>> Start { get; set; } =
        async (options, cancellationToken) => await MeshNode.StartAsync(options, cancellationToken).ConfigureAwait(false);

    public IMesh Mesh { get; }

    /// <summary>
    /// Joins the mesh chosen by <c>--discovery</c> as the short-lived node <paramref name="name"/> of a one-shot command,
    /// on any free loopback port, and fails unless the registry answers: a command would otherwise report an empty mesh.
    /// </summary>
    public static async Task<MeshSession> JoinAsync(ParseResult parseResult, string name, CancellationToken cancellationToken)
    {
        var session = await JoinAsync(parseResult, name, new Listen(0, null, null), cancellationToken).ConfigureAwait(false);
        try
        {
            if (session.Mesh is MeshNode node)
                await WhenJoinedAsync(node, cancellationToken).ConfigureAwait(false);
            return session;
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Joins the mesh chosen by <c>--discovery</c> as node <paramref name="name"/>, listening where <paramref name="listen"/> says.</summary>
    public static async Task<MeshSession> JoinAsync(ParseResult parseResult, string name, Listen listen, CancellationToken cancellationToken)
    {
        var defaults = new TransportOptions();
        var transport = Tls.From(parseResult).ApplyTo(
            defaults with { ListenPort = listen.Port, ListenHost = listen.Host ?? defaults.ListenHost, AdvertisedHost = listen.AdvertisedHost });

        var level = parseResult.GetValue(CommonOptions.LogLevel);
        var loggerFactory = LoggerFactory.Create(logging => logging
            .SetMinimumLevel(level)
            .AddConsole(console =>
            {
                console.FormatterName = OneLineLogFormatter.Name;
                console.LogToStandardErrorThreshold = LogLevel.Trace;
            })
            .AddConsoleFormatter<OneLineLogFormatter, OneLineLogFormatter.Options>(format => format.StackTraces = level <= LogLevel.Debug));
        var options = new MeshOptions
        {
            NodeName = name,
            Transport = transport,
            Discovery = new Discovery.DiscoveryOptions { Registry = parseResult.GetRequiredValue(CommonOptions.Discovery) },
            LoggerFactory = loggerFactory,
        };
        try
        {
            return new MeshSession(await Start(options, cancellationToken).ConfigureAwait(false), loggerFactory);
        }
        catch
        {
            loggerFactory.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Waits until the node has registered and read the registry (<see cref="IMesh.Joined"/>), so that the command
    /// sees every node already there. That takes a connect and two calls, each bounded by
    /// <see cref="DiscoveryOptions.CommandTimeout"/>.
    /// </summary>
    private static async Task WhenJoinedAsync(MeshNode node, CancellationToken cancellationToken)
    {
        var limit = 3 * new DiscoveryOptions().CommandTimeout;
        try
        {
            await node.Joined.WaitAsync(limit, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            var registry = node.RegistryConnection;
            throw new CliException(
                registry is { State: RegistryConnectionState.Disconnected } ? $"registry {registry.Value.Description} is unreachable."
                : node.RegistryFailure is { } failure ? $"registry {registry?.Description} did not take the node within {limit.TotalSeconds:0.#} s: {failure}"
                : $"registry {registry?.Description} did not answer within {limit.TotalSeconds:0.#} s.");
        }
    }

    /// <summary>A name for the short-lived node of a one-shot command, unique so that it never joins another node's group.</summary>
    public static string ToolName(string command) => $"mesh-{command}-{Environment.ProcessId}";

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Mesh.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _loggerFactory.Dispose();
        }
    }
}
