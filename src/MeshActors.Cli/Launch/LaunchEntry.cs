namespace MeshActors.Cli.Launch;

/// <summary>One entry of a launch file: a command started <see cref="Number"/> times, with delays around it.</summary>
internal sealed class LaunchEntry
{
    /// <summary>The label of its output lines and its <c>MESH_NODE_NAME</c>; the command's first word when absent.</summary>
    public string? Name { get; set; }

    /// <summary>A shell command line (a string), or the program and its arguments (a list); a leading <c>mesh</c> runs this mesh command.</summary>
    public object? Command { get; set; }

    /// <summary>How many copies to start. Default 1.</summary>
    public int Number { get; set; } = 1;

    /// <summary>Seconds to wait before starting it. Default 0.</summary>
    public double PreDelay { get; set; }

    /// <summary>Seconds to wait after starting it, before the next entry. Default 0.</summary>
    public double PostDelay { get; set; }

    /// <summary>Skips the entry. Default false.</summary>
    public bool Disabled { get; set; }

    /// <summary>The command as a program and its arguments: a string goes through <c>sh -c</c>, a list runs as is.</summary>
    public IReadOnlyList<string> CommandLine => Command switch
    {
        string line => [line],
        IEnumerable<object> words => words.Select(w => w?.ToString() ?? "").ToList(),
        _ => [],
    };

    /// <summary>True when <see cref="Command"/> is one string for the shell rather than a list of words.</summary>
    public bool IsShellCommand => Command is string;

    public string DisplayName => Name ?? CommandLine.FirstOrDefault()?.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "node";

    internal void Validate(string where)
    {
        if (CommandLine.Count == 0 || string.IsNullOrWhiteSpace(CommandLine[0]))
            throw new CliException($"{where}: 'command' is missing: give a command line or a list of words.");
        if (Number < 0)
            throw new CliException($"{where}: 'number' must be 0 or more, not {Number}.");
        if (!IsDelay(PreDelay) || !IsDelay(PostDelay))
            throw new CliException($"{where}: 'pre_delay' and 'post_delay' must be between 0 and {MaxDelay.TotalSeconds:0} seconds.");
    }

    /// <summary>The longest wait Task.Delay takes (about 49.7 days); a longer one would fail after children started.</summary>
    private static readonly TimeSpan MaxDelay = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private static bool IsDelay(double seconds) => seconds >= 0 && seconds <= MaxDelay.TotalSeconds;
}
