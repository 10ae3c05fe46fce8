using Xunit.Abstractions;

namespace MeshActors.Tests.Mesh;

/// <summary>The mesh over the local-directory registry, in a directory of the test's own.</summary>
public sealed class LocalMeshSpec(ITestOutputHelper output) : MeshContract(output)
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "meshactors-mesh-" + Guid.NewGuid().ToString("N"));

    protected override string RegistrySetting => "local:" + _root;

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }
}
