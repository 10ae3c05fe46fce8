
namespace MeshActors.Cli.Tests;

/// <summary>The single-process samples run to the end by themselves and exit 0, as a new user runs them.</summary>
public sealed class SampleSpec
{
    [Fact]
    public async Task Quickstart_must_show_streaming_fan_out_a_service_call_a_remote_error_and_replicated_data_then_exit_0()
    {
        await using var quickstart = ChildProcess.Start("dotnet", [SampleDll("Quickstart")]);

        Assert.True(await quickstart.WaitForExitAsync(TestTimeouts.Long) == 0, quickstart.Transcript);
        Assert.Contains("  A received: Message from B #4", quickstart.Stdout);
        Assert.Contains("  B received: Message from A #4", quickstart.Stdout);
        Assert.Contains("  A got ABC 101.7 from B", quickstart.Stdout);
        Assert.Contains("  B got ABC 101.7 from B", quickstart.Stdout);
        Assert.Contains("  B asked for ABC and got 101.7", quickstart.Stdout);
        Assert.Contains("  B caught RemoteServiceException: System.Collections.Generic.KeyNotFoundException: no quote for NOPE", quickstart.Stdout);
        Assert.Contains("  B sees apples = 12, written by A", quickstart.Stdout);
        Assert.Contains("  A and B each added 1 a hundred times at once: A counts 200, B counts 200", quickstart.Stdout);
    }

    [Fact]
    public async Task ActorInterop_must_deliver_prices_and_quotes_to_the_applications_actor_then_exit_0()
    {
        await using var sample = ChildProcess.Start("dotnet", [SampleDll("ActorInterop")]);

        Assert.True(await sample.WaitForExitAsync(TestTimeouts.Long) == 0, sample.Transcript);
        Assert.Contains("  portfolio: pricing published ABC 101.7", sample.Stdout);
        Assert.Contains("  portfolio: pricing quotes ABC at 101.7", sample.Stdout);
        Assert.Contains(sample.Stdout, line => line.StartsWith("  portfolio: a quote failed: ", StringComparison.Ordinal) && line.EndsWith("KeyNotFoundException: no quote for NOPE", StringComparison.Ordinal));
    }

    /// <summary>A sample as built in its own folder, in the configuration the tests were built in.</summary>
    private static string SampleDll(string name)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/{configuration}/net10.0/
        var dll = RepositoryPaths.File("samples", name, "bin", configuration, "net10.0", name + ".dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build the tests (they build the samples first).");
        return dll;
    }
}
