
namespace MeshActors.Cli.Tests;

/// <summary>Runs the real <c>mesh</c> command (the built mesh.dll, not <c>dotnet run</c>) as child processes on one mesh, and stops them all when disposed.</summary>
public sealed class MeshCli(string discovery) : IAsyncDisposable
{
    /// <summary>The mesh command as built next to the tests (a project reference copies it here).</summary>
    public static string Dll { get; } = Path.Combine(AppContext.BaseDirectory, "mesh.dll");

    private readonly List<ChildProcess> _children = [];

    public string Discovery => discovery;

    /// <summary>Starts <c>mesh args...</c> with <c>MESH_DISCOVERY</c> set to this mesh's registry.</summary>
    public ChildProcess Start(params string[] args) => StartWith(new Dictionary<string, string>(), args);

    /// <summary>Starts <c>mesh args...</c> with <c>MESH_DISCOVERY</c> set to this mesh's registry and <paramref name="environment"/>'s variables.</summary>
    public ChildProcess StartWith(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var child = ChildProcess.Start("dotnet", [Dll, .. args], new Dictionary<string, string>(environment) { ["MESH_DISCOVERY"] = discovery });
        lock (_children)
            _children.Add(child);
        return child;
    }

    /// <summary>Starts <c>mesh args...</c> on a pseudo-terminal (through script(1)), so that it prints its markup rather than plain lines.</summary>
    public ChildProcess StartOnTerminal(params string[] args)
    {
        var commandLine = string.Join(' ', new[] { "dotnet", Dll }.Concat(args).Select(word => "'" + word.Replace("'", "'\\''") + "'"));
        var child = ChildProcess.Start("script", ["--quiet", "--return", "--command", commandLine, "/dev/null"], new Dictionary<string, string> { ["MESH_DISCOVERY"] = discovery });
        lock (_children)
            _children.Add(child);
        return child;
    }

    /// <summary>Runs <c>mesh args...</c> to the end.</summary>
    public async Task<(int ExitCode, ChildProcess Process)> RunAsync(params string[] args)
    {
        var child = Start(args);
        return (await child.WaitForExitAsync(TestTimeouts.Long), child);
    }

    /// <summary>Starts <c>mesh node --name name options...</c> and returns once it listens; its address is on the first line.</summary>
    public async Task<CliNode> StartNodeAsync(string name, params string[] options)
    {
        var process = Start(["node", "--name", name, .. options]);
        var banner = await process.WaitForLineAsync("node name=");
        var fields = banner.Split(' ').Select(f => f.Split('=', 2)).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1]);
        return new CliNode(process, fields["name"], fields["id"], fields["address"]);
    }

    /// <summary>Stops every child still running: SIGTERM first, so nodes deregister; then SIGKILL, whatever happens.</summary>
    public async ValueTask DisposeAsync()
    {
        List<ChildProcess> children;
        lock (_children)
            children = [.. _children];
        foreach (var child in children)
        {
            try
            {
                child.Terminate();
            }
            catch (Exception e) when (e is IOException or InvalidOperationException)
            {
                // already gone
            }
        }
        try
        {
            await Task.WhenAll(children.Select(c => c.WaitForExitAsync(TestTimeouts.Default))).WaitAsync(TestTimeouts.Default);
        }
        catch (Exception e) when (e is Xunit.Sdk.XunitException or TimeoutException)
        {
            // killed below
        }
        foreach (var child in children)
            await child.DisposeAsync();
    }
}

/// <summary>A running <c>mesh node</c> and what its banner said.</summary>
public sealed record CliNode(ChildProcess Process, string Name, string Id, string Address);
