using System.CommandLine;
using System.Security.Cryptography;
using MeshActors.Transport;

namespace MeshActors.Cli;

/// <summary>
/// The node's TLS files, from <c>--tls-cert</c>, <c>--tls-key</c> and <c>--tls-trust</c> (or their environment variables)
/// and the password in <c>$MESH_TLS_PASSWORD</c>: kept out of the command line, where other users' <c>ps</c> reads it.
/// </summary>
internal sealed record Tls(string? CertificatePath, string? KeyPath, string? TrustPath, string? Password)
{
    public const string CertificateVariable = "MESH_TLS_CERT";
    public const string KeyVariable = "MESH_TLS_KEY";
    public const string TrustVariable = "MESH_TLS_TRUST";
    public const string PasswordVariable = "MESH_TLS_PASSWORD";

    public static Tls From(ParseResult parseResult) => new(
        parseResult.GetValue(CommonOptions.TlsCertificate),
        parseResult.GetValue(CommonOptions.TlsKey),
        parseResult.GetValue(CommonOptions.TlsTrust),
        Environment.GetEnvironmentVariable(PasswordVariable) is { Length: > 0 } password ? password : null);

    /// <summary>The variables that give a child process these settings (<c>mesh launch</c>); paths made absolute, so that they hold wherever it runs.</summary>
    public IEnumerable<KeyValuePair<string, string>> ChildEnvironment()
    {
        if (CertificatePath is not null)
            yield return new(CertificateVariable, Path.GetFullPath(CertificatePath));
        if (KeyPath is not null)
            yield return new(KeyVariable, Path.GetFullPath(KeyPath));
        if (TrustPath is not null)
            yield return new(TrustVariable, Path.GetFullPath(TrustPath));
        if (Password is not null)
            yield return new(PasswordVariable, Password);
    }

    /// <summary><paramref name="transport"/> with the certificate and trusted roots loaded; unchanged (cleartext) without <c>--tls-cert</c>.</summary>
    /// <exception cref="CliException">A key or trust file without a certificate, or a file that cannot be loaded.</exception>
    public TransportOptions ApplyTo(TransportOptions transport)
    {
        Exists("--tls-cert", CertificatePath);
        Exists("--tls-key", KeyPath);
        Exists("--tls-trust", TrustPath);
        if (CertificatePath is null)
        {
            return KeyPath is null && TrustPath is null
                ? transport
                : throw new CliException("--tls-key and --tls-trust need --tls-cert: a node without a certificate speaks cleartext.");
        }

        // A PEM certificate and its key are read together: which of the two is wrong, the error does not say.
        var certificate = KeyPath is null ? $"--tls-cert '{CertificatePath}'" : $"--tls-cert '{CertificatePath}' with --tls-key '{KeyPath}'";
        var loaded = Load(certificate, () => MeshCertificates.Load(CertificatePath, KeyPath, Password));
        var chain = Load($"--tls-cert '{CertificatePath}'", () => MeshCertificates.LoadChain(CertificatePath, loaded, Password));
        return transport with
        {
            Certificate = loaded,
            CertificateChain = chain.Count > 0 ? chain : null,
            TrustedRoots = TrustPath is null ? null : Load($"--tls-trust '{TrustPath}'", () => MeshCertificates.LoadTrustedRoots(TrustPath)),
        };
    }

    // An empty value is a script's unset variable ("$CERT"): named as such, not as the loader's "(Parameter 'path')".
    private static void Exists(string option, string? path)
    {
        if (path is "")
            throw new CliException($"{option} is empty: name a file.");
        if (path is not null && !File.Exists(path))
            throw new CliException($"{option} '{path}' does not exist.");
    }

    private static T Load<T>(string what, Func<T> load)
    {
        try
        {
            return load();
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new CliException($"{what} cannot be loaded: {ex.Message.TrimEnd('.')}.");
        }
    }
}
