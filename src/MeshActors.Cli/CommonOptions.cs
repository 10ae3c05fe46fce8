using System.CommandLine;
using Microsoft.Extensions.Logging;

namespace MeshActors.Cli;

/// <summary>The options every command accepts: which mesh to join and how much the node logs.</summary>
internal static class CommonOptions
{
    /// <summary>The environment variable that chooses the registry when <c>--discovery</c> is not given.</summary>
    public const string DiscoveryVariable = "MESH_DISCOVERY";

    /// <summary><c>--discovery</c>: "local" (default), "local:/dir", or a Redis address; maps to <see cref="Discovery.DiscoveryOptions.Registry"/>.</summary>
    public static readonly Option<string> Discovery = new("--discovery", "-d")
    {
        Description = $"Registry to find nodes in: local (a directory on this machine), local:/some/dir, or redis://host:port. Default: ${DiscoveryVariable}, else local.",
        HelpName = "local|redis://host:port",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(DiscoveryVariable) is { Length: > 0 } value ? value : "local",
    };

    /// <summary><c>--log-level</c>: the node's log level on stderr; Warning by default so that only problems show.</summary>
    public static readonly Option<LogLevel> LogLevel = new("--log-level")
    {
        Description = "Node log level on stderr (Trace, Debug, Information, Warning, Error, None).",
        Recursive = true,
        DefaultValueFactory = _ => Microsoft.Extensions.Logging.LogLevel.Warning,
    };
}
