using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MeshActors.Transport;

/// <summary>
/// Reads the files a TLS mesh is set up with: a node's certificate with its private key
/// (<see cref="TransportOptions.Certificate"/>) and the certificates its dialer trusts
/// (<see cref="TransportOptions.TrustedRoots"/>). The host's configuration and the <c>mesh</c> command load them here.
/// </summary>
public static class MeshCertificates
{
    /// <summary>
    /// A certificate with its private key: from a PKCS#12 file (<c>.pfx</c>, <c>.p12</c>) when <paramref name="keyPath"/>
    /// is null, else from a PEM certificate and its PEM key, which <paramref name="password"/> decrypts when given.
    /// </summary>
    /// <exception cref="CryptographicException">The file is not a certificate, the key does not match it, or the password is wrong.</exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    public static X509Certificate2 Load(string path, string? keyPath = null, string? password = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (keyPath is null)
            return X509CertificateLoader.LoadPkcs12FromFile(path, password);
        // A password meant for something else (an environment variable set for another file) does not spoil a key
        // that is not encrypted.
        return password is null || !File.ReadAllText(keyPath).Contains("ENCRYPTED", StringComparison.Ordinal)
            ? X509Certificate2.CreateFromPemFile(path, keyPath)
            : X509Certificate2.CreateFromEncryptedPemFile(path, password, keyPath);
    }

    /// <summary>
    /// The other certificates in the file of <paramref name="certificate"/> (read by <see cref="Load"/>): the
    /// intermediates of a full-chain PEM or PKCS#12 file, which the listener sends after its own
    /// (<see cref="TransportOptions.CertificateChain"/>), so that dialers trusting only the root can build the chain.
    /// </summary>
    public static X509Certificate2Collection LoadChain(string path, X509Certificate2 certificate, string? password = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(certificate);
        X509Certificate2Collection all;
        if (File.ReadAllText(path).Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            all = [];
            all.ImportFromPemFile(path);
        }
        else
        {
            all = X509CertificateLoader.LoadPkcs12CollectionFromFile(path, password);
        }

        var chain = new X509Certificate2Collection();
        foreach (var other in all)
        {
            if (other.Thumbprint != certificate.Thumbprint)
                chain.Add(other);
        }

        return chain;
    }

    /// <summary>
    /// The certificates of a PEM file (one or more <c>CERTIFICATE</c> blocks: a private authority's certificate, or the
    /// nodes' own self-signed ones) or of a single DER certificate file.
    /// </summary>
    /// <exception cref="CryptographicException">The file holds no certificate.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static X509Certificate2Collection LoadTrustedRoots(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(path);
        if (roots.Count == 0)
            roots.Add(X509CertificateLoader.LoadCertificateFromFile(path));
        return roots;
    }
}
