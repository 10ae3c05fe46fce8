using MeshActors.Cli.Launch;

namespace MeshActors.Cli.Tests;

public sealed class LaunchFileSpec : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"mesh-launch-{Guid.NewGuid():N}.yaml");

    [Fact]
    public void Launch_file_must_read_every_field_of_an_entry()
    {
        File.WriteAllText(_path, """
            discovery: redis://127.0.0.1:6390
            nodes:
              - name: worker
                command: mesh node
                number: 3
                pre_delay: 0.5
                post_delay: 1.25
                disabled: true
              - command: [python3, -m, http.server]
            """);

        var file = LaunchFile.Load(_path);

        Assert.Equal("redis://127.0.0.1:6390", file.Discovery);
        var worker = file.Nodes[0];
        Assert.Equal(("worker", 3, 0.5, 1.25, true), (worker.DisplayName, worker.Number, worker.PreDelay, worker.PostDelay, worker.Disabled));
        Assert.True(worker.IsShellCommand);
        var server = file.Nodes[1];
        Assert.Equal(("python3", 1, false), (server.DisplayName, server.Number, server.IsShellCommand));
        Assert.Equal(["python3", "-m", "http.server"], server.CommandLine);
    }

    [Fact]
    public void A_leading_mesh_must_run_this_mesh_command_and_a_simple_line_must_be_execed()
    {
        var entry = new LaunchEntry { Command = "mesh node --name x" };

        var commandLine = Launcher.CommandLineFor(entry);

        Assert.Equal("/bin/sh", commandLine[0]);
        Assert.StartsWith("exec '", commandLine[2]);
        Assert.EndsWith(" node --name x", commandLine[2]);
        Assert.DoesNotContain("exec mesh", commandLine[2]);
    }

    [Fact]
    public void A_compound_shell_line_must_keep_its_shell()
    {
        var commandLine = Launcher.CommandLineFor(new LaunchEntry { Command = "cd /tmp && ls" });

        Assert.Equal(["/bin/sh", "-c", "cd /tmp && ls"], commandLine);
    }

    [Fact]
    public void Launch_file_must_name_the_entry_and_field_that_are_wrong()
    {
        File.WriteAllText(_path, "nodes:\n  - command: x\n  - command: y\n    number: -1\n");

        var error = Assert.Throws<CliException>(() => LaunchFile.Load(_path));

        Assert.Equal($"{_path}: nodes[1]: 'number' must be 0 or more, not -1.", error.Message);
    }

    public void Dispose() => File.Delete(_path);
}
