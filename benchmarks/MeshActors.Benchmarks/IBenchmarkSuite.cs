namespace MeshActors.Benchmarks;

/// <summary>One named group of figures, run by <c>MeshActors.Benchmarks &lt;name&gt;</c>.</summary>
public interface IBenchmarkSuite
{
    /// <summary>The suite's command-line name, e.g. "kernel".</summary>
    string Name { get; }

    /// <summary>Runs the suite and prints one line per figure to standard output.</summary>
    Task RunAsync(string[] args);
}
