using System.Diagnostics;

namespace MeshActors.Cli.Launch;

/// <summary>One child process of <c>mesh launch</c>, whose output lines are printed with its label in front.</summary>
internal sealed class LaunchedProcess : IDisposable
{
    private static readonly string[] Colours = ["aqua", "green", "yellow", "fuchsia", "blue", "orange1", "lime", "violet"];
    private static int _started;

    private readonly Process _process;
    private readonly string _label;
    private readonly string _colour = Colours[Interlocked.Increment(ref _started) % Colours.Length];

    private LaunchedProcess(Process process, string label)
    {
        _process = process;
        _label = label;
    }

    public string Label => _label;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts <paramref name="commandLine"/> with <paramref name="environment"/> added to this process's environment.</summary>
    public static LaunchedProcess Start(string label, IReadOnlyList<string> commandLine, IReadOnlyDictionary<string, string> environment)
    {
        var startInfo = new ProcessStartInfo(commandLine[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in commandLine.Skip(1))
            startInfo.ArgumentList.Add(argument);
        foreach (var (name, value) in environment)
            startInfo.Environment[name] = value;

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var launched = new LaunchedProcess(process, label);
        process.OutputDataReceived += (_, e) => launched.Print(e.Data);
        process.ErrorDataReceived += (_, e) => launched.Print(e.Data);
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            process.Dispose();
            throw new CliException($"{label}: cannot start '{commandLine[0]}': {e.Message}");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        launched.Print($"started (pid {process.Id})");
        return launched;
    }

    /// <summary>Completes when the process has exited and its output has been printed.</summary>
    public Task WaitForExitAsync(CancellationToken cancellationToken = default) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>SIGTERM: the child leaves the mesh cleanly.</summary>
    public void Terminate()
    {
        if (!_process.HasExited)
            Signals.Terminate(_process);
    }

    /// <summary>SIGKILL, for a child that ignored SIGTERM.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
    }

    public void Dispose() => _process.Dispose();

    private void Print(string? line)
    {
        if (line is null)
            return;
        Terminal.Line($"[{_colour}]{Terminal.Escape(_label)}[/] {Terminal.Escape(line)}", $"[{_label}] {line}");
    }
}
