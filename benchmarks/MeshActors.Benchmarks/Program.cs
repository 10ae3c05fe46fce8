using System.Reflection;
using MeshActors.Benchmarks;

// Usage: dotnet run -c Release --project benchmarks/MeshActors.Benchmarks -- <suite> [suite args]
// Each suite prints one line per figure: "<suite>.<figure> <unit>=<value> ...".
var suites = Assembly.GetExecutingAssembly().GetTypes()
    .Where(t => typeof(IBenchmarkSuite).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (IBenchmarkSuite)Activator.CreateInstance(t)!)
    .OrderBy(s => s.Name)
    .ToDictionary(s => s.Name);

if (args.Length == 0 || !suites.TryGetValue(args[0], out var suite))
{
    Console.Error.WriteLine($"usage: MeshActors.Benchmarks <{string.Join('|', suites.Keys)}> [args]");
    return 2;
}

Console.Error.WriteLine($"# {suite.Name}: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, GC {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}");
var start = CpuSteal.Sample();
await suite.RunAsync(args[1..]);
if (CpuSteal.Sample().PercentSince(start) is { } steal)
{
    // Figures from a run where other machines took a large share of the CPU are not this code's figures.
    Console.Error.WriteLine(FormattableString.Invariant($"# {suite.Name}: {steal:0}% of the CPU time went to other machines (steal) during the run"));
}

return 0;
