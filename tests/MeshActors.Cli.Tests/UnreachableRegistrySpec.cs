namespace MeshActors.Cli.Tests;

/// <summary>The mesh commands against a Redis address where nothing listens: an error, never an empty mesh.</summary>
public sealed class UnreachableRegistrySpec : IAsyncLifetime
{
    private readonly int _port = FreePort.Next();
    private MeshCli _cli = null!;

    [Theory]
    [InlineData("list")]
    [InlineData("service", "call", "echo", "{}")]
    [InlineData("topic", "send", "prices", "1")]
    public async Task A_command_must_fail_when_the_registry_is_unreachable_instead_of_reporting_an_empty_mesh(params string[] command)
    {
        var (exitCode, run) = await _cli.RunAsync(command);

        Assert.True(exitCode == 1, run.Transcript);
        Assert.Empty(run.Stdout);
        Assert.EndsWith($"[stderr] mesh: registry redis 127.0.0.1:{_port} prefix mesh is unreachable.", run.Transcript.Trim());
    }

    public Task InitializeAsync()
    {
        _cli = new MeshCli($"redis://127.0.0.1:{_port}");
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => _cli.DisposeAsync().AsTask();
}
