
namespace MeshActors.Cli.Tests;

/// <summary>
/// The mesh commands against each other as real processes: node, list, ping, topic echo/send, service call.
/// Each registry backend runs the same specifications.
/// </summary>
public abstract class MeshCommandContract : IAsyncLifetime
{
    private MeshCli? _cli;

    /// <summary>The <c>--discovery</c> value of the mesh under test.</summary>
    protected abstract Task<string> CreateRegistryAsync();

    protected virtual Task DisposeRegistryAsync() => Task.CompletedTask;

    protected MeshCli Cli => _cli ?? throw new InvalidOperationException("not initialized");

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    [Fact]
    public async Task Node_must_show_in_list_with_its_name_id_and_address()
    {
        var node = await Cli.StartNodeAsync(Unique("lister"));

        var (exitCode, list) = await Cli.RunAsync("list");

        Assert.Equal(0, exitCode);
        Assert.StartsWith("NAME", list.Stdout[0]);
        var row = Assert.Single(list.Stdout, line => line.StartsWith(node.Name + " ", StringComparison.Ordinal));
        Assert.Contains(node.Id, row);
        Assert.Contains(node.Address, row);
        Assert.Contains("echo", row);
    }

    [Fact]
    public async Task Ping_must_print_a_reply_per_ping_and_a_summary()
    {
        var node = await Cli.StartNodeAsync(Unique("pinged"));

        var (exitCode, ping) = await Cli.RunAsync("ping", node.Name, "-c", "3", "-i", "0.1");

        Assert.True(exitCode == 0, ping.Transcript);
        Assert.Equal(3, ping.Stdout.Count(line => line.StartsWith($"reply from {node.Name}: seq=", StringComparison.Ordinal)));
        Assert.Contains("3 sent, 3 received, 0% loss", ping.Stdout);
        Assert.Contains(ping.Stdout, line => line.StartsWith("rtt min/avg/max/mdev = ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ping_must_accept_a_node_id_and_a_host_and_port()
    {
        var node = await Cli.StartNodeAsync(Unique("pinged"));

        var byId = await Cli.RunAsync("ping", node.Id, "-c", "1");
        var byAddress = await Cli.RunAsync("ping", node.Address, "-c", "1");

        Assert.True(byId.ExitCode == 0, byId.Process.Transcript);
        Assert.True(byAddress.ExitCode == 0, byAddress.Process.Transcript);
        Assert.Contains("1 sent, 1 received, 0% loss", byAddress.Process.Stdout);
    }

    [Fact]
    public async Task Ping_must_fail_when_no_reply_comes_back()
    {
        var (exitCode, ping) = await Cli.RunAsync("ping", Unique("nobody"), "-c", "1", "--wait", "0.5", "-W", "1");

        Assert.Equal(1, exitCode);
        Assert.Contains("1 sent, 0 received, 100% loss", ping.Stdout);
    }

    [Fact]
    public async Task Topic_echo_must_print_what_topic_send_publishes()
    {
        var topic = Unique("topic");
        var echo = Cli.Start("topic", "echo", topic, "--count", "2");
        await echo.WaitForLineAsync($"listening on topic '{topic}'");

        var first = await Cli.RunAsync("topic", "send", topic, """{"n":1,"text":"hello"}""");
        var second = await Cli.RunAsync("topic", "send", topic, "\"two\"");

        Assert.True(first.ExitCode == 0, first.Process.Transcript);
        Assert.True(second.ExitCode == 0, second.Process.Transcript);
        Assert.Equal(0, await echo.WaitForExitAsync());
        Assert.Equal(["""{"n":1,"text":"hello"}""", "\"two\""], echo.Stdout);
    }

    [Fact]
    public async Task Topic_send_must_fail_with_one_line_when_nobody_listens()
    {
        var (exitCode, send) = await Cli.RunAsync("topic", "send", Unique("deserted"), "1", "--wait", "0.5");

        Assert.Equal(1, exitCode);
        var error = Assert.Single(send.Transcript.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("[stderr] mesh: ", error);
    }

    [Fact]
    public async Task Service_call_must_print_the_echo_services_response()
    {
        await Cli.StartNodeAsync(Unique("server"));

        var (exitCode, call) = await Cli.RunAsync("service", "call", "echo", """{"question":42}""");

        Assert.True(exitCode == 0, call.Transcript);
        Assert.Equal(["""{"question":42}"""], call.Stdout);
    }

    [Fact]
    public async Task Service_call_must_fail_with_one_line_when_no_node_hosts_the_service()
    {
        var service = Unique("missing");

        var (exitCode, call) = await Cli.RunAsync("service", "call", service, "{}", "--wait", "0.5");

        Assert.Equal(1, exitCode);
        Assert.Empty(call.Stdout);
        var error = Assert.Single(call.Transcript.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(service, error);
    }

    [Fact]
    public async Task Dict_get_in_another_process_must_see_what_dict_set_wrote_to_a_node_holding_the_dictionary()
    {
        var dictionary = Unique("dict");
        await Cli.StartNodeAsync(Unique("keeper"), "--dict", dictionary);

        var set = await Cli.RunAsync("dict", "set", dictionary, "greeting", """{"text":"hello"}""");
        var get = await Cli.RunAsync("dict", "get", dictionary, "greeting");

        Assert.True(set.ExitCode == 0, set.Process.Transcript);
        Assert.True(get.ExitCode == 0, get.Process.Transcript);
        Assert.Equal(["""{"text":"hello"}"""], get.Process.Stdout);
    }

    [Theory]
    [InlineData("SIGTERM")]
    [InlineData("SIGHUP")] // its terminal closed
    public async Task Node_must_leave_the_mesh_at_once_on_SIGTERM_or_SIGHUP(string signal)
    {
        var watcher = await Cli.StartNodeAsync(Unique("watcher"));
        var leaver = await Cli.StartNodeAsync(Unique("leaver"));
        await watcher.Process.WaitForLineAsync($"member-up name={leaver.Name} ");

        if (signal == "SIGHUP")
            leaver.Process.Hangup();
        else
            leaver.Process.Terminate();

        Assert.Equal(0, await leaver.Process.WaitForExitAsync());
        Assert.Contains("stopped", leaver.Process.Stdout);
        // Well before the 6 s TTL: the node deregistered instead of expiring.
        await watcher.Process.WaitForLineAsync(line => line.StartsWith($"member-down name={leaver.Name} ", StringComparison.Ordinal) && line.EndsWith("reason=Left", StringComparison.Ordinal));
    }

    public async Task InitializeAsync() => _cli = new MeshCli(await CreateRegistryAsync());

    public async Task DisposeAsync()
    {
        if (_cli is not null)
            await _cli.DisposeAsync();
        await DisposeRegistryAsync();
    }
}

/// <summary>The mesh commands on the local directory registry, one directory per test.</summary>
public sealed class LocalMeshCommandSpec : MeshCommandContract
{
    private readonly DirectoryInfo _registry = Directory.CreateTempSubdirectory("mesh-cli-spec-");

    protected override Task<string> CreateRegistryAsync() => Task.FromResult("local:" + _registry.FullName);

    protected override Task DisposeRegistryAsync()
    {
        _registry.Delete(recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>The mesh commands on a real Redis, one redis-server per test.</summary>
public sealed class RedisMeshCommandSpec : MeshCommandContract
{
    private readonly MeshActors.Testing.RedisServer _redis = new();

    protected override async Task<string> CreateRegistryAsync()
    {
        await _redis.StartAsync();
        return $"redis://{_redis.ConnectionString}";
    }

    protected override Task DisposeRegistryAsync() => _redis.StopAsync();
}
