using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MeshActors.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Transport;

/// <summary>TLS with a private authority's intermediate: the chain a listener sends, over real loopback HTTP/2.</summary>
public sealed class TlsChainSpec(ITestOutputHelper output)
{
    // A private authority that issues node certificates from an intermediate (step-ca, cert-manager and Vault do):
    // TrustedRoots holds its root, each node's certificate file the usual full chain (leaf, then intermediate). The
    // listener must send the intermediate, or the dialer, trusting the root alone, cannot build the chain.
    [Fact]
    public async Task A_dialer_trusting_a_private_root_must_accept_a_node_certified_by_its_intermediate()
    {
        var directory = Directory.CreateTempSubdirectory("meshactors-tls-").FullName;
        try
        {
            using var root = Authority("CN=test root", issuer: null, out var rootKey);
            using var intermediate = Authority("CN=test intermediate", (root, rootKey), out var intermediateKey);
            var (chainPath, keyPath) = WriteLeaf(directory, intermediate, intermediateKey);
            var rootPath = Path.Combine(directory, "root.pem");
            File.WriteAllText(rootPath, root.ExportCertificatePem());
            rootKey.Dispose();
            intermediateKey.Dispose();

            using var certificate = MeshCertificates.Load(chainPath, keyPath);
            var options = Loopback.DefaultOptions with
            {
                Certificate = certificate,
                CertificateChain = MeshCertificates.LoadChain(chainPath, certificate),
                TrustedRoots = MeshCertificates.LoadTrustedRoots(rootPath),
            };
            await using var loopback = await Loopback.StartAsync(output, options);

            await using var channel = await loopback.OpenAsync();
            var inbound = await loopback.AcceptAsync();
            loopback.Finish(inbound);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static X509Certificate2 Authority(string subject, (X509Certificate2 Certificate, ECDsa Key)? issuer, out ECDsa key)
    {
        key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var (notBefore, notAfter) = (DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        if (issuer is not { } by)
            return request.CreateSelfSigned(notBefore, notAfter);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(by.Certificate, true, false));
        using var issued = request.Create(by.Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(by.Key), notBefore, notAfter, RandomNumberGenerator.GetBytes(8));
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>A loopback node certificate issued by <paramref name="intermediate"/>, written as a full-chain PEM (leaf, intermediate) and a PEM key.</summary>
    private static (string Chain, string Key) WriteLeaf(string directory, X509Certificate2 intermediate, ECDsa intermediateKey)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        names.AddIpAddress(System.Net.IPAddress.IPv6Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(intermediate, true, false));
        using var leaf = request.Create(intermediate.SubjectName, X509SignatureGenerator.CreateForECDsa(intermediateKey),
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(8));
        var chainPath = Path.Combine(directory, "node-fullchain.pem");
        var keyPath = Path.Combine(directory, "node.key");
        File.WriteAllText(chainPath, leaf.ExportCertificatePem() + "\n" + intermediate.ExportCertificatePem() + "\n");
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (chainPath, keyPath);
    }
}
