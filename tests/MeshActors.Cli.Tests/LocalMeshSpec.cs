namespace MeshActors.Cli.Tests;

/// <summary>A spec whose commands run on a mesh of their own: a local registry in a fresh directory, removed with the spec's processes.</summary>
public abstract class LocalMeshSpec : IAsyncLifetime
{
    private readonly DirectoryInfo _registry = Directory.CreateTempSubdirectory("mesh-cli-spec-");

    protected LocalMeshSpec() => Cli = new MeshCli("local:" + _registry.FullName);

    protected MeshCli Cli { get; }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await Cli.DisposeAsync();
        _registry.Delete(recursive: true);
    }
}
