namespace MeshActors.Cli.Tests;

/// <summary>Files of the repository the tests run from (samples, scripts), found from the test binaries upwards.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string File(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(directory.FullName, "MeshActors.sln")))
                return directory.FullName;
        }
        throw new InvalidOperationException($"MeshActors.sln not found above {AppContext.BaseDirectory}");
    }
}
