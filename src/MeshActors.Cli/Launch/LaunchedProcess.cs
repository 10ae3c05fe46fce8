using System.Diagnostics;

namespace MeshActors.Cli.Launch;

/// <summary>One child process of <c>mesh launch</c>, whose output lines are printed with its label in front.</summary>
internal sealed class LaunchedProcess : IDisposable
{
    private static readonly string[] Colours = ["aqua", "green", "yellow", "fuchsia", "blue", "orange1", "lime", "violet"];
    private static int _started;

    /// <summary>
    /// setsid(1), which starts the child as the leader of a process group of its own: a signal to that group reaches
    /// everything a compound shell line starts, not only the shell. Null where there is none (Windows, macOS).
    /// </summary>
    private static readonly string? Setsid = OperatingSystem.IsWindows() ? null : FindProgram("setsid");

    private readonly Process _process;
    private readonly string _label;
    private readonly string _colour = Colours[Interlocked.Increment(ref _started) % Colours.Length];
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _finished;

    private LaunchedProcess(Process process, string label)
    {
        _process = process;
        _label = label;
        process.Exited += (_, _) => _exited.TrySetResult();
    }

    public string Label => _label;

    /// <summary>True until the process has exited and its output (which the rest of its group may hold) has closed.</summary>
    public bool IsRunning => !Finished.IsCompleted;

    /// <summary>Completes when the process itself has exited, even if others of its group still hold its output.</summary>
    public Task Exited => _exited.Task;

    /// <summary>Completes when the process has exited and its output has been printed.</summary>
    public Task Finished => _finished ??= _process.WaitForExitAsync();

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts <paramref name="commandLine"/> with <paramref name="environment"/> added to this process's environment.</summary>
    public static LaunchedProcess Start(string label, IReadOnlyList<string> commandLine, IReadOnlyDictionary<string, string> environment)
    {
        // setsid would report a missing program only as its own output and exit code: say it here, as Process.Start would.
        if (Setsid is not null && FindProgram(commandLine[0]) is null)
            throw new CliException($"{label}: cannot start '{commandLine[0]}': no such program.");
        var startInfo = new ProcessStartInfo(Setsid ?? commandLine[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // setsid execs the command in place (a freshly forked child is no group leader), so the pid is the command's.
        foreach (var argument in Setsid is null ? commandLine.Skip(1) : commandLine)
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

    /// <summary>SIGTERM: the child leaves the mesh cleanly, and so does everything of its process group (what a shell line started).</summary>
    public void Terminate()
    {
        if (OperatingSystem.IsWindows())
            Kill();
        else if (Setsid is not null)
            Signals.Terminate(-_process.Id);
        else if (!_process.HasExited)
            Signals.Terminate(_process.Id);
    }

    /// <summary>SIGKILL, for a child (or what it started) that ignored SIGTERM: its group even after the child itself exited.</summary>
    public void Kill()
    {
        if (Setsid is not null)
            Signals.Kill(-_process.Id);
        else if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
    }

    public void Dispose() => _process.Dispose();

    /// <summary>The file a program name runs, as execvp(3) finds it (a file that can be executed); null when there is none.</summary>
    private static string? FindProgram(string name) => name.Contains('/')
        ? (IsExecutable(name) ? name : null)
        : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name)).FirstOrDefault(IsExecutable);

    private static bool IsExecutable(string path) =>
        File.Exists(path)
        && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0);

    private void Print(string? line)
    {
        if (line is null)
            return;
        Terminal.Line($"[{_colour}]{Terminal.Escape(_label)}[/] {Terminal.Escape(line)}", $"[{_label}] {line}");
    }
}
