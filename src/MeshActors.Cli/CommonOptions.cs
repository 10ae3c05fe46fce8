using System.CommandLine;
using Microsoft.Extensions.Logging;

namespace MeshActors.Cli;

/// <summary>The options every command accepts: which mesh to join, with which TLS files, and how much the node logs.</summary>
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

    /// <summary><c>--tls-cert</c>: the node's certificate; with it the node speaks TLS, as every node of the mesh must.</summary>
    public static readonly Option<string?> TlsCertificate = FileOption(
        "--tls-cert", Tls.CertificateVariable, "The node's certificate with its key: PKCS#12, or PEM with --tls-key (password in $MESH_TLS_PASSWORD). With it the node speaks TLS, as the whole mesh must.");

    /// <summary><c>--tls-key</c>: the PEM private key of a PEM <c>--tls-cert</c>.</summary>
    public static readonly Option<string?> TlsKey = FileOption("--tls-key", Tls.KeyVariable, "The PEM private key of a PEM --tls-cert.");

    /// <summary><c>--tls-trust</c>: the certificates other nodes' certificates must chain to, instead of the system's store.</summary>
    public static readonly Option<string?> TlsTrust = FileOption(
        "--tls-trust", Tls.TrustVariable, "PEM file of the certificates other nodes' certificates must chain to (a private authority, or their self-signed ones), instead of the system's store.");

    /// <summary><c>--log-level</c>: the node's log level on stderr; Warning by default so that only problems show.</summary>
    public static readonly Option<LogLevel> LogLevel = new("--log-level")
    {
        Description = "Node log level on stderr (Trace, Debug, Information, Warning, Error, None).",
        Recursive = true,
        DefaultValueFactory = _ => Microsoft.Extensions.Logging.LogLevel.Warning,
    };

    private static Option<string?> FileOption(string name, string variable, string description) => new(name)
    {
        Description = $"{description} Default: ${variable}.",
        HelpName = "file",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value : null,
    };
}
