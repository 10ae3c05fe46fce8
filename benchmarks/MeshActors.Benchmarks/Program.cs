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
await suite.RunAsync(args[1..]);
return 0;
