using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace MeshActors.Cli.Tests;

/// <summary>A real child process whose output lines a test can wait for; killed, with its children, when disposed.</summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _transcript = new();
    private readonly List<string> _stdout = [];
    private readonly List<string> _lines = [];
    private TaskCompletionSource _lineAdded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _outputClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _openStreams = 2;

    private ChildProcess(Process process) => _process = process;

    public string Name => _process.StartInfo.ArgumentList.Count > 1 ? string.Join(' ', _process.StartInfo.ArgumentList.Skip(1).Take(3)) : _process.StartInfo.FileName;

    public int Id => _process.Id;

    /// <summary>Everything the process wrote so far, stdout and stderr interleaved, for failure messages.</summary>
    public string Transcript
    {
        get
        {
            lock (_transcript)
                return _transcript.ToString();
        }
    }

    /// <summary>The stdout lines so far.</summary>
    public IReadOnlyList<string> Stdout
    {
        get
        {
            lock (_transcript)
                return _stdout.ToList();
        }
    }

    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
            startInfo.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            startInfo.Environment[name] = value;

        var child = new ChildProcess(new Process { StartInfo = startInfo, EnableRaisingEvents = true });
        child._process.OutputDataReceived += (_, e) => child.Record(e.Data, stdout: true);
        child._process.ErrorDataReceived += (_, e) => child.Record(e.Data, stdout: false);
        child._process.Start();
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        return child;
    }

    /// <summary>The first line, on stdout or stderr, written so far or later, that matches; fails with the transcript when none does in time.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TestTimeouts.Default;
        var deadline = Stopwatch.StartNew();
        var seen = 0;
        while (true)
        {
            Task lineAdded;
            bool closed;
            lock (_transcript)
            {
                closed = _outputClosed.Task.IsCompleted; // read first: once closed, every line is in the list
                for (; seen < _lines.Count; seen++)
                {
                    if (match(_lines[seen]))
                        return _lines[seen];
                }
                lineAdded = _lineAdded.Task;
            }
            if (closed || deadline.Elapsed >= limit)
                break;
            try
            {
                await lineAdded.WaitAsync(limit - deadline.Elapsed);
            }
            catch (TimeoutException)
            {
            }
        }
        throw new Xunit.Sdk.XunitException(
            $"{Name}: no matching line within {limit}{(_process.HasExited ? $" (exited with {_process.ExitCode})" : "")}. Output:\n{Transcript}");
    }

    public Task<string> WaitForLineAsync(string startsWith, TimeSpan? timeout = null) =>
        WaitForLineAsync(line => line.StartsWith(startsWith, StringComparison.Ordinal), timeout);

    /// <summary>Waits for the process to exit and its output to be read; its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout ?? TestTimeouts.Default);
            await _outputClosed.Task.WaitAsync(timeout ?? TestTimeouts.Default);
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"{Name}: still running after {timeout ?? TestTimeouts.Default}. Output:\n{Transcript}");
        }
        return _process.ExitCode;
    }

    /// <summary>Sends SIGTERM, as a service manager or Ctrl+C would.</summary>
    public void Terminate() => Signal(15, "SIGTERM");

    /// <summary>Sends SIGHUP, as a terminal that closes does.</summary>
    public void Hangup() => Signal(1, "SIGHUP");

    /// <summary>SIGKILL to this process alone, not its children: for script(1), the terminal window closing under the command.</summary>
    public void KillAlone() => Signal(9, "SIGKILL");

    private void Signal(int signal, string name)
    {
        if (!_process.HasExited && kill(_process.Id, signal) != 0 && !_process.HasExited)
            throw new IOException($"kill({_process.Id}, {name}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>The peak resident set size so far (VmHWM), in bytes; Linux only.</summary>
    public long PeakResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException("no VmHWM in /proc status");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TestTimeouts.Default);
            }
        }
        catch (InvalidOperationException)
        {
            // never started, or already reaped
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void Record(string? line, bool stdout)
    {
        if (line is null)
        {
            if (Interlocked.Decrement(ref _openStreams) == 0)
            {
                _outputClosed.TrySetResult();
                Pulse();
            }
            return;
        }
        lock (_transcript)
        {
            _transcript.AppendLine(stdout ? line : "[stderr] " + line);
            _lines.Add(line);
            if (stdout)
                _stdout.Add(line);
        }
        Pulse();
    }

    private void Pulse()
    {
        TaskCompletionSource added;
        lock (_transcript)
            (added, _lineAdded) = (_lineAdded, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        added.TrySetResult();
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
