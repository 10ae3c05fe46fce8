namespace MeshActors.Cli.Tests;

/// <summary>Command lines that <c>mesh</c> refuses before it does anything: one line on stderr, nothing on stdout.</summary>
public sealed class CommandLineSpec : LocalMeshSpec
{
    [Theory]
    [InlineData("node --port abc", "Cannot parse argument 'abc' for option '--port' as expected type 'System.Int32'. Try 'mesh node --help'.")]
    [InlineData("ping", "Required argument missing for command: 'ping'. Try 'mesh ping --help'.")]
    [InlineData("bogus", "Unrecognized command or argument 'bogus'. Try 'mesh --help'.")]
    [InlineData("topic send", "Required argument missing for command: 'send'. Try 'mesh topic send --help'.")]
    [InlineData("dict set d k", "Required argument missing for command: 'set'. Try 'mesh dict set --help'.")]
    public async Task A_command_line_that_does_not_parse_must_fail_with_one_line_and_a_hint_instead_of_the_help(string commandLine, string error)
    {
        var (exitCode, mesh) = await Cli.RunAsync(commandLine.Split(' '));

        Assert.Equal(1, exitCode);
        Assert.Equal($"[stderr] mesh: {error}", mesh.Transcript.Trim());
    }

    [Theory]
    [InlineData("list --wait -1", "--wait must be between 0 and 4294967 seconds, not -1. Try 'mesh list --help'.")]
    [InlineData("list --wait NaN", "--wait must be between 0 and 4294967 seconds, not NaN. Try 'mesh list --help'.")]
    [InlineData("list --wait abc", "Cannot parse argument 'abc' for option '--wait' as expected type 'System.Double'. Try 'mesh list --help'.")]
    [InlineData("ping n -i -1", "--interval must be between 0 and 4294967 seconds, not -1. Try 'mesh ping --help'.")]
    [InlineData("ping n -c -1", "--count must be 0 or more, not -1. Try 'mesh ping --help'.")]
    [InlineData("ping n -W 0", "--timeout must be more than 0 and at most 4294967 seconds, not 0. Try 'mesh ping --help'.")]
    [InlineData("topic send t 1 -w -1", "--wait must be between 0 and 4294967 seconds, not -1. Try 'mesh topic send --help'.")]
    [InlineData("dict get d -w -1", "--wait must be between 0 and 4294967 seconds, not -1. Try 'mesh dict get --help'.")]
    [InlineData("service call echo {} -t 0", "--timeout must be more than 0 and at most 4294967 seconds, not 0. Try 'mesh service call --help'.")]
    [InlineData("speedtest send --seconds 0", "--seconds must be more than 0 and at most 4294967 seconds, not 0. Try 'mesh speedtest send --help'.")]
    [InlineData("speedtest send --warmup 1e10", "--warmup must be between 0 and 4294967 seconds, not 10000000000. Try 'mesh speedtest send --help'.")]
    [InlineData("replay f --rate NaN", "--rate must be between 0.001 and 1000000, not NaN. Try 'mesh replay --help'.")]
    [InlineData("replay f --rate 0", "--rate must be between 0.001 and 1000000, not 0. Try 'mesh replay --help'.")]
    public async Task A_number_out_of_range_must_fail_with_one_line_naming_its_option_before_anything_runs(string commandLine, string error)
    {
        var (exitCode, mesh) = await Cli.RunAsync(commandLine.Split(' '));

        Assert.Equal(1, exitCode);
        Assert.Equal($"[stderr] mesh: {error}", mesh.Transcript.Trim());
    }

    [Fact]
    public async Task Help_must_still_go_to_stdout_with_exit_code_0()
    {
        var (exitCode, mesh) = await Cli.RunAsync("node", "--help");

        Assert.Equal(0, exitCode);
        Assert.Contains(mesh.Stdout, line => line.Contains("--port", StringComparison.Ordinal));
        Assert.DoesNotContain("[stderr]", mesh.Transcript, StringComparison.Ordinal);
    }
}
