namespace MeshActors.Cli.Launch;

/// <summary>Starts the entries of a launch file in order, waits for them, and stops them all with SIGTERM (then SIGKILL) on Ctrl+C.</summary>
internal sealed class Launcher(LaunchFile file, string discovery, Tls tls) : IDisposable
{
    /// <summary>How long children get to exit after SIGTERM before SIGKILL, as easymesh's meshlaunch does.</summary>
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    private static readonly char[] ShellOperators = [';', '&', '|', '(', ')', '\n'];

    private readonly List<LaunchedProcess> _children = [];

    /// <summary>Runs until every child has exited or until <paramref name="cancellationToken"/> stops them all; exit code 1 if one that ended by itself failed.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            foreach (var entry in file.Nodes)
                await StartAsync(entry, cancellationToken);
            await Task.WhenAll(_children.Select(c => c.Finished)).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C ends the run, not the failure of a process that had already ended by itself (read before the stop):
            // one that exited, even if a background job it left still holds its output open.
            return ReportFailures(_children.Where(c => c.Exited.IsCompleted).ToList());
        }
        finally
        {
            // Whatever ended the run (Ctrl+C, a child that cannot start, a bug), no child outlives the launcher.
            await StopAllAsync();
        }

        return ReportFailures(_children);
    }

    /// <summary>Exit code 1, each failure on a line of its own, if one of the <paramref name="ended"/> processes failed.</summary>
    private static int ReportFailures(IReadOnlyList<LaunchedProcess> ended)
    {
        var failed = ended.Where(c => c.ExitCode != 0).ToList();
        foreach (var child in failed)
            Terminal.Error($"{child.Label} exited with code {child.ExitCode}");
        return failed.Count == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }

    private async Task StartAsync(LaunchEntry entry, CancellationToken cancellationToken)
    {
        if (entry.Disabled)
        {
            Terminal.Note($"{entry.DisplayName}: disabled, skipped");
            return;
        }
        await Task.Delay(TimeSpan.FromSeconds(entry.PreDelay), cancellationToken);
        var commandLine = CommandLineFor(entry);
        for (var i = 1; i <= entry.Number; i++)
        {
            var label = entry.Number > 1 ? $"{entry.DisplayName}#{i}" : entry.DisplayName;
            var environment = new Dictionary<string, string>
            {
                [CommonOptions.DiscoveryVariable] = file.Discovery ?? discovery,
                [Commands.NodeCommand.NameVariable] = entry.DisplayName,
                ["MESH_NODE_INDEX"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            foreach (var (name, value) in tls.ChildEnvironment())
                environment[name] = value;
            _children.Add(LaunchedProcess.Start(label, commandLine, environment));
        }
        await Task.Delay(TimeSpan.FromSeconds(entry.PostDelay), cancellationToken);
    }

    private async Task StopAllAsync()
    {
        // A child that has exited may have left processes of its group behind, holding its output: stop those too.
        var running = _children.Where(c => c.IsRunning).ToList();
        if (running.Count == 0)
            return;
        Terminal.Note($"stopping {running.Count} process{(running.Count == 1 ? "" : "es")} (SIGTERM, SIGKILL after {StopGrace.TotalSeconds:0} s)");
        foreach (var child in running)
            child.Terminate();
        var finished = Task.WhenAll(running.Select(c => c.Finished));
        if (await Task.WhenAny(finished, Task.Delay(StopGrace)) == finished)
            return;
        foreach (var child in running.Where(c => c.IsRunning))
        {
            Terminal.Note($"{child.Label}: still running after SIGTERM, killing it");
            child.Kill();
        }
        // Only the children themselves: a process that left their group (a daemon) may hold their output for ever.
        await Task.WhenAll(running.Select(c => c.Exited));
    }

    /// <summary>The program and arguments to start: a string goes through <c>sh -c</c>; a leading <c>mesh</c> is this very command.</summary>
    internal static IReadOnlyList<string> CommandLineFor(LaunchEntry entry)
    {
        var words = entry.CommandLine;
        if (!entry.IsShellCommand)
            return words[0] == "mesh" ? [.. SelfInvocation(), .. words.Skip(1)] : words;

        var line = words[0].Trim();
        if (line == "mesh" || line.StartsWith("mesh ", StringComparison.Ordinal))
            line = string.Join(' ', SelfInvocation().Select(ShellQuote)) + line[4..];
        if (OperatingSystem.IsWindows())
            return ["cmd.exe", "/c", line];
        // exec makes the program itself the child, so that SIGTERM reaches it; a compound line keeps its shell, and so
        // does one that begins with an assignment (NAME=value prog) or with exec already, which exec would break.
        var first = line.Split(' ', 2)[0];
        var simple = line.IndexOfAny(ShellOperators) < 0 && !first.Contains('=') && first != "exec";
        return ["/bin/sh", "-c", simple ? "exec " + line : line];
    }

    /// <summary>How to run this mesh command again: the apphost, or <c>dotnet mesh.dll</c>.</summary>
    private static IReadOnlyList<string> SelfInvocation()
    {
        var host = Environment.ProcessPath ?? "mesh";
        return Path.GetFileNameWithoutExtension(host) == "dotnet" ? [host, typeof(Launcher).Assembly.Location] : [host];
    }

    private static string ShellQuote(string word) => "'" + word.Replace("'", "'\\''") + "'";

    public void Dispose()
    {
        foreach (var child in _children)
            child.Dispose();
    }
}
