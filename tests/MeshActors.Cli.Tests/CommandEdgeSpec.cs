using System.Text.Json;
using System.Text.Json.Serialization;
using MeshActors.Discovery;
using MeshActors.TestKit;

namespace MeshActors.Cli.Tests;

/// <summary>Edges of the mesh command: a launch line with an environment assignment, an interrupted count, a recording of valid JSON that is no text.</summary>
public sealed class CommandEdgeSpec : LocalMeshSpec, IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("mesh-edge-spec-");

    [Fact]
    public async Task Launch_must_run_a_shell_line_that_begins_with_a_variable_assignment()
    {
        // A string runs through `sh -c` (docs/cli.md): `NAME=value program` is the ordinary shell way to give one program a variable.
        var file = Path.Combine(_directory.FullName, "launch.yaml");
        await File.WriteAllTextAsync(file, """
            nodes:
              - name: greeter
                command: GREETING=hello printenv GREETING
            """);

        var (exitCode, launch) = await Cli.RunAsync("launch", file);

        Assert.True(exitCode == 0, launch.Transcript);
        Assert.Contains("[greeter] hello", launch.Stdout);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_default_local_registry_must_be_made_shared_by_the_machines_users_as_a_temp_directory_is()
    {
        // docs/discovery.md: the default directory is the machine's; made 0755 by the umask, another user's nodes could
        // not register in it (their mesh node never joined).
        var temp = _directory.CreateSubdirectory("tmp").FullName;
        await using var list = ChildProcess.Start("dotnet", [MeshCli.Dll, "list"], new Dictionary<string, string> { ["TMPDIR"] = temp, ["MESH_DISCOVERY"] = "local" });

        Assert.True(await list.WaitForExitAsync() == 0, list.Transcript);
        foreach (var directory in new[] { Path.Combine(temp, "meshactors"), Path.Combine(temp, "meshactors", "mesh") })
        {
            var mode = File.GetUnixFileMode(directory);
            Assert.True(mode.HasFlag(UnixFileMode.OtherWrite) && mode.HasFlag(UnixFileMode.StickyBit), $"{directory} is {mode}");
        }
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task A_node_in_the_default_local_registry_must_write_an_entry_every_user_can_read_whatever_its_umask()
    {
        // Written as a umask of 077 makes it (0600), the entry would be skipped by other users' nodes as unreadable.
        var temp = _directory.CreateSubdirectory("tmp-umask").FullName;
        var command = $"umask 077; exec dotnet '{MeshCli.Dll}' node --name private";
        await using var node = ChildProcess.Start("sh", ["-c", command], new Dictionary<string, string> { ["TMPDIR"] = temp, ["MESH_DISCOVERY"] = "local" });
        var banner = await node.WaitForLineAsync("node name=");
        var id = banner.Split(' ').Single(field => field.StartsWith("id=", StringComparison.Ordinal))[3..];

        // The banner comes once the node started, its registration a moment later.
        var entry = Path.Combine(temp, "meshactors", "mesh", id + ".json");
        await Conditions.AwaitConditionAsync(() => File.Exists(entry), TestTimeouts.Default, message: "the node's entry written");
        var mode = File.GetUnixFileMode(entry);

        Assert.True(mode.HasFlag(UnixFileMode.OtherRead) && mode.HasFlag(UnixFileMode.GroupRead), $"the entry is {mode}");
        node.Terminate();
        Assert.Equal(0, await node.WaitForExitAsync());
    }

    [Fact]
    public async Task Topic_echo_with_a_count_must_exit_with_130_when_SIGTERM_stops_it_before_the_count()
    {
        // docs/cli.md: a command that Ctrl+C or SIGTERM stops before it is done exits with 130; only `topic echo` and
        // `record` without -c run until Ctrl+C as their ordinary end. With -c 2 and no message, it is not done.
        var echo = Cli.Start("topic", "echo", "quiet", "-c", "2");
        await echo.WaitForLineAsync("listening on topic 'quiet'");

        echo.Terminate();

        Assert.Equal(130, await echo.WaitForExitAsync());
        Assert.Empty(echo.Stdout);
    }

    [Fact]
    public async Task Record_must_keep_recording_after_a_message_whose_JSON_escapes_a_lone_surrogate()
    {
        // "\ud800" is valid JSON (RFC 8259 8.2) that a Python peer's json.dumps writes for a lone surrogate; the mesh
        // delivers it to the subscriber as a JsonElement, whose raw text the recording can hold as it came.
        var file = Path.Combine(_directory.FullName, "texts.jsonl");
        var record = Cli.Start("record", file, "texts", "--count", "2");
        await record.WaitForLineAsync("recording texts");
        await using (var publisher = await MeshNode.StartAsync(new MeshOptions
        {
            NodeName = "surrogates",
            Discovery = new DiscoveryOptions { Registry = Cli.Discovery },
        }))
        {
            await publisher.WaitForSubscriberAsync("texts", TestTimeouts.Default);
            await publisher.PublishAsync("texts", new LoneSurrogate());
            await publisher.PublishAsync("texts", "after");

            Assert.True(await record.WaitForExitAsync() == 0, record.Transcript);
        }

        var lines = await File.ReadAllLinesAsync(file);
        Assert.True(lines.Length == 3, string.Join('\n', lines));
        Assert.Equal("\"\\ud800\"", JsonDocument.Parse(lines[1]).RootElement.GetProperty("data").GetRawText());
        Assert.Equal("\"after\"", JsonDocument.Parse(lines[2]).RootElement.GetProperty("data").GetRawText());
    }

    /// <summary>A message whose JSON is the string <c>"\ud800"</c>, as a peer in another language sends it.</summary>
    [JsonConverter(typeof(LoneSurrogateConverter))]
    private sealed class LoneSurrogate;

    private sealed class LoneSurrogateConverter : JsonConverter<LoneSurrogate>
    {
        public override LoneSurrogate Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => throw new NotSupportedException();

        public override void Write(Utf8JsonWriter writer, LoneSurrogate value, JsonSerializerOptions options) =>
            writer.WriteRawValue("\"\\ud800\"", skipInputValidation: true);
    }

    public void Dispose() => _directory.Delete(recursive: true);
}
