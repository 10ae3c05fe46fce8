namespace MeshActors.Cli.Tests;

/// <summary><c>mesh node</c> options that must be refused before a node starts, on a local registry of its own.</summary>
public sealed class NodeCommandSpec : LocalMeshSpec
{
    [Theory]
    [InlineData("--advertise", "my host", "--advertise must be a host name or an IP address, not 'my host'.")]
    [InlineData("--host", "bad:host", "--host must be an IP address or 'localhost', not 'bad:host'.")]
    public async Task Node_must_refuse_a_host_it_cannot_listen_on_or_be_dialled_at_in_one_line(string option, string value, string error)
    {
        var (exitCode, node) = await Cli.RunAsync("node", "--name", "badhost", option, value);

        Assert.Equal(1, exitCode);
        Assert.Equal($"[stderr] mesh: {error}", node.Transcript.Trim());
    }

    [Fact]
    public async Task Node_and_ping_must_print_an_IPv6_address_on_a_terminal()
    {
        var node = Cli.StartOnTerminal("node", "--name", "v6", "--host", "::1");
        await node.WaitForLineAsync(line => line.Contains("listening on", StringComparison.Ordinal) && line.Contains("[::1]:", StringComparison.Ordinal));

        var ping = Cli.StartOnTerminal("ping", "v6", "-c", "1");

        Assert.True(await ping.WaitForExitAsync() == 0, ping.Transcript);
        Assert.Contains(ping.Stdout, line => line.Contains("PING ", StringComparison.Ordinal) && line.Contains("[::1]:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_node_that_cannot_listen_must_say_why_in_readable_lines_without_a_stack_trace()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;

        var (exitCode, node) = await Cli.RunAsync("node", "--name", "squatter", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(1, exitCode);
        Assert.Contains($"[stderr] mesh: Failed to bind to address http://127.0.0.1:{port}: address already in use.", node.Transcript);
        Assert.Contains(node.Transcript.Split('\n'), line => line.Contains("[4014] The mesh listener could not start (IOException: ", StringComparison.Ordinal));
        Assert.DoesNotContain(" at System.", node.Transcript);
    }
}
