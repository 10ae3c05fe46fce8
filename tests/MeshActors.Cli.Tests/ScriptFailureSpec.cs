namespace MeshActors.Cli.Tests;

/// <summary>
/// What a script sees when something goes wrong: a TLS file option it cannot use, a recording that is not UTF-8, a
/// node stopped while it is still starting (docs/cli.md, Choosing the mesh, Output, Commands).
/// </summary>
public sealed class ScriptFailureSpec : LocalMeshSpec, IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("mesh-script-failure-spec-");
    private readonly TestAuthority _authority = TestAuthority.Create();

    [Theory]
    // A script's `--tls-cert "$CERT"` with CERT unset passes an empty value.
    [InlineData("--tls-cert", "--tls-cert", "")]
    [InlineData("--tls-key", "--tls-cert", "{cert}", "--tls-key", "")]
    [InlineData("--tls-key", "--tls-cert", "{cert}", "--tls-key", "{missing}")]
    [InlineData("--tls-trust", "--tls-cert", "{cert}", "--tls-key", "{key}", "--tls-trust", "")]
    public async Task A_TLS_file_that_cannot_be_loaded_must_fail_the_command_in_one_line_naming_its_own_option(string option, params string[] tlsOptions)
    {
        // docs/cli.md: "a certificate or key that cannot be loaded fails the command naming its option".
        var (certificate, key) = _authority.WriteNodePem(_directory.FullName);
        var missing = Path.Combine(_directory.FullName, "missing.key");
        var arguments = tlsOptions.Select(word => word.Replace("{cert}", certificate).Replace("{key}", key).Replace("{missing}", missing));

        var (exitCode, list) = await Cli.RunAsync(["list", "-w", "0", .. arguments]);

        Assert.True(exitCode == 1, list.Transcript);
        var error = list.Transcript.Trim().Split('\n')[^1];
        Assert.StartsWith("[stderr] mesh: ", error);
        Assert.True(error.Contains(option, StringComparison.Ordinal), $"the error does not name {option}: {error}");
    }

    [Fact]
    public async Task Replay_must_refuse_a_recording_that_is_not_UTF_8_naming_its_line_not_publish_altered_text()
    {
        // docs/cli.md: "The file is JSON lines, UTF-8". Here "café" is in Latin-1 (0xE9), as an editor or a script may
        // have saved it; JSON text must be UTF-8 (RFC 8259 8.1). Replayed, the byte became U+FFFD without a word.
        var file = Path.Combine(_directory.FullName, "latin1.jsonl");
        await File.WriteAllBytesAsync(file,
        [
            .. "{\"mesh_recording\":1,\"started\":\"2026-01-01T00:00:00Z\",\"topics\":[\"texts\"]}\n"u8,
            .. "{\"t\":0,\"topic\":\"texts\",\"data\":\"caf"u8, 0xE9, .. "\"}\n"u8,
        ]);
        var listener = Cli.Start("topic", "echo", "texts");
        await listener.WaitForLineAsync(line => line.Contains("listening on topic 'texts'", StringComparison.Ordinal));

        var (exitCode, replay) = await Cli.RunAsync("replay", file, "-w", "5");

        if (exitCode == 0)
        {
            var published = await listener.WaitForLineAsync(line => line.StartsWith("\"caf", StringComparison.Ordinal));
            Assert.Fail($"replay exited with 0 and published {published} ({string.Join(' ', published.Select(c => $"U+{(int)c:X4}"))}) for the bytes 63 61 66 E9:\n{replay.Transcript}");
        }
        Assert.Equal(1, exitCode);
        Assert.Contains($"mesh: {file}:2:", replay.Transcript, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Node_with_a_dictionary_must_exit_with_0_when_SIGTERM_stops_it_while_it_waits_for_its_registry()
    {
        // docs/cli.md: for the commands that run until Ctrl+C (node among them) a SIGTERM "is their ordinary end, with
        // their ordinary exit code", and `mesh node` starts while the registry is down. With --dict it first waits up to
        // 5 s for the registry (to find the dictionary's other holders): a service manager stopping it then gets 130.
        var port = FreePort.Next();
        var node = Cli.Start("node", "--name", "keeper", "--dict", "stock", "--discovery", $"redis://127.0.0.1:{port}");
        await node.WaitForLineAsync(line => line.Contains($"127.0.0.1:{port}", StringComparison.Ordinal) && line.Contains("unreachable", StringComparison.Ordinal));
        Assert.True(node.Stdout.Count == 0, $"the node was expected to be still waiting for its registry:\n{node.Transcript}");

        node.Terminate();

        var exitCode = await node.WaitForExitAsync();
        Assert.True(exitCode == 0, $"exited with {exitCode}:\n{node.Transcript}");
    }

    public void Dispose()
    {
        _authority.Dispose();
        _directory.Delete(recursive: true);
    }
}
