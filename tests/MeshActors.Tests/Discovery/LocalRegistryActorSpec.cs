namespace MeshActors.Tests.Discovery;

/// <summary>The registry actor over the local directory backend.</summary>
public sealed class LocalRegistryActorSpec : RegistryActorContract
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "meshactors-spec-" + Guid.NewGuid().ToString("N"));

    protected override string RegistrySetting => "local:" + _root;

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }
}
