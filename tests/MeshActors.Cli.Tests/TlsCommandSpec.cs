using MeshActors.Testing;

namespace MeshActors.Cli.Tests;

/// <summary>The mesh command on a TLS mesh: --tls-cert, --tls-key, --tls-trust and their environment variables (docs/cli.md, TLS).</summary>
public sealed class TlsCommandSpec : LocalMeshSpec, IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("mesh-tls-spec-");
    private readonly TestAuthority _authority = TestAuthority.Create();

    [Fact]
    public async Task A_command_must_reach_a_TLS_node_with_files_given_as_options_or_in_the_environment()
    {
        var trust = _authority.WriteCertificatePem(_directory.FullName);
        var (certificate, key) = _authority.WriteNodePem(_directory.FullName, "server");
        var node = await Cli.StartNodeAsync("secure", "--tls-cert", certificate, "--tls-key", key, "--tls-trust", trust);
        var (ownCertificate, ownKey) = _authority.WriteNodePem(_directory.FullName, "client");

        var ping = Cli.StartWith(
            new Dictionary<string, string> { ["MESH_TLS_CERT"] = ownCertificate, ["MESH_TLS_KEY"] = ownKey, ["MESH_TLS_TRUST"] = trust },
            "ping", node.Name, "-c", "1");

        Assert.True(await ping.WaitForExitAsync() == 0, ping.Transcript);
        Assert.Contains(ping.Stdout, line => line.Contains(node.Address, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_cleartext_command_must_not_reach_a_TLS_node()
    {
        var trust = _authority.WriteCertificatePem(_directory.FullName);
        var (certificate, key) = _authority.WriteNodePem(_directory.FullName, "server");
        var node = await Cli.StartNodeAsync("secure", "--tls-cert", certificate, "--tls-key", key, "--tls-trust", trust);

        var (exitCode, ping) = await Cli.RunAsync("ping", node.Name, "-c", "1", "-W", "1");

        Assert.True(exitCode == 1, ping.Transcript);
    }

    [Theory]
    [InlineData("--tls-key", "--tls-key and --tls-trust need --tls-cert")]
    [InlineData("--tls-cert", "--tls-cert '")]
    public async Task A_TLS_file_the_node_cannot_use_must_fail_the_command_naming_its_option(string option, string error)
    {
        var notACertificate = Path.Combine(_directory.FullName, "notes.txt");
        await File.WriteAllTextAsync(notACertificate, "not a certificate");

        var (exitCode, list) = await Cli.RunAsync("list", option, notACertificate);

        Assert.Equal(1, exitCode);
        Assert.Contains(error, list.Transcript, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Launch_must_hand_its_TLS_files_to_its_processes_as_absolute_paths()
    {
        var file = Path.Combine(_directory.FullName, "launch.yaml");
        await File.WriteAllTextAsync(file, """
            nodes:
              - name: child
                command: printenv MESH_TLS_CERT
            """);
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, Path.Combine(_directory.FullName, "node.pem"));

        var (exitCode, launch) = await Cli.RunAsync("launch", file, "--tls-cert", relative);

        Assert.True(exitCode == 0, launch.Transcript);
        Assert.Contains($"[child] {Path.Combine(_directory.FullName, "node.pem")}", launch.Stdout);
    }

    public void Dispose()
    {
        _authority.Dispose();
        _directory.Delete(recursive: true);
    }
}
