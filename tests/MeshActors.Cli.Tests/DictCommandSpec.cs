namespace MeshActors.Cli.Tests;

/// <summary><c>mesh dict</c> against <c>mesh node --dict</c> as real processes, on a local registry of its own.</summary>
public sealed class DictCommandSpec : LocalMeshSpec
{
    private const string Dictionary = "inventory";

    [Fact]
    public async Task Dict_get_without_a_key_must_print_every_key_and_value_one_JSON_object_per_line()
    {
        await Cli.StartNodeAsync("keeper", "--dict", Dictionary);
        await SetAsync("pears", "3");
        await SetAsync("apples", """{"count":12,"note":"a+b"}""");

        var (exitCode, get) = await Cli.RunAsync("dict", "get", Dictionary);

        Assert.True(exitCode == 0, get.Transcript);
        Assert.Equal(["""{"key":"apples","value":{"count":12,"note":"a+b"}}""", """{"key":"pears","value":3}"""], get.Stdout);
    }

    [Fact]
    public async Task Dict_watch_must_print_each_change_another_process_makes_with_its_writer_until_SIGTERM()
    {
        await Cli.StartNodeAsync("keeper", "--dict", Dictionary);
        var watch = Cli.Start("dict", "watch", Dictionary);
        await watch.WaitForLineAsync($"watching dictionary '{Dictionary}'");

        await SetAsync("apples", "12");
        var set = await watch.WaitForLineAsync("""{"key":"apples","change":"set","value":12,"node":""");
        var remove = await Cli.RunAsync("dict", "remove", Dictionary, "apples");
        Assert.True(remove.ExitCode == 0, remove.Process.Transcript);
        var removed = await watch.WaitForLineAsync("""{"key":"apples","change":"removed","node":""");
        watch.Terminate();

        Assert.Equal(0, await watch.WaitForExitAsync());
        Assert.Equal([set, removed], watch.Stdout);
    }

    [Fact]
    public async Task A_node_that_opens_a_dictionary_others_hold_must_start_with_their_data_and_keep_it_when_they_leave()
    {
        var keeper = await Cli.StartNodeAsync("keeper", "--dict", Dictionary);
        await SetAsync("apples", "12");
        await SetAsync("pears", "3");

        var heir = Cli.Start("node", "--name", "heir", "--dict", Dictionary);
        await heir.WaitForLineAsync($"dictionary name={Dictionary} keys=2");
        Assert.StartsWith("node name=heir ", heir.Stdout[0]); // the keeper's member-up, seen before, comes after it
        keeper.Process.Terminate();
        Assert.Equal(0, await keeper.Process.WaitForExitAsync());

        var (exitCode, get) = await Cli.RunAsync("dict", "get", Dictionary, "apples");
        Assert.True(exitCode == 0, get.Transcript);
        Assert.Equal(["12"], get.Stdout);
    }

    [Fact]
    public async Task Dict_get_of_a_missing_key_must_fail_with_one_line_and_exit_code_1()
    {
        await Cli.StartNodeAsync("keeper", "--dict", Dictionary);
        await SetAsync("apples", "12");

        var (exitCode, get) = await Cli.RunAsync("dict", "get", Dictionary, "plums");

        Assert.Equal(1, exitCode);
        Assert.Equal($"[stderr] mesh: key 'plums' is not in dictionary '{Dictionary}' (1 key).", get.Transcript.Trim());
    }

    [Fact]
    public async Task Dict_remove_of_a_missing_key_must_fail_with_one_line_and_exit_code_1()
    {
        await Cli.StartNodeAsync("keeper", "--dict", Dictionary);

        var (exitCode, remove) = await Cli.RunAsync("dict", "remove", Dictionary, "plums");

        Assert.Equal(1, exitCode);
        Assert.Equal($"[stderr] mesh: key 'plums' is not in dictionary '{Dictionary}': nothing removed.", remove.Transcript.Trim());
    }

    [Fact]
    public async Task Dict_set_must_fail_with_one_line_when_no_node_holds_the_dictionary_open()
    {
        var (exitCode, set) = await Cli.RunAsync("dict", "set", Dictionary, "apples", "12", "--wait", "0.5");

        Assert.Equal(1, exitCode);
        Assert.Equal(
            $"[stderr] mesh: no node holds dictionary '{Dictionary}' open (waited 0.5 s); 'mesh node --name N --dict {Dictionary}' keeps one open.",
            set.Transcript.Trim());
    }

    [Fact]
    public async Task Dict_get_must_show_concurrent_writes_to_a_key_as_a_conflict()
    {
        // Two meshes, a partition: a and b each hold the dictionary and each get a write to the same key.
        var apartDirectory = Directory.CreateTempSubdirectory("mesh-cli-spec-apart-");
        try
        {
            await using var apart = new MeshCli("local:" + apartDirectory.FullName);
            var a = await Cli.StartNodeAsync("a", "--dict", Dictionary);
            await SetAsync("k", "\"from-a\"");
            var b = await apart.StartNodeAsync("b", "--dict", Dictionary);
            var setApart = await apart.RunAsync("dict", "set", Dictionary, "k", "\"from-b\"");
            Assert.True(setApart.ExitCode == 0, setApart.Process.Transcript);

            // The partition heals: b's registration shows in a's registry too (docs/discovery.md: {node id}.json), as a
            // link, so that b's refreshes keep it alive there.
            File.CreateSymbolicLink(Entry(Cli, b.Id), Entry(apart, b.Id));
            await a.Process.WaitForLineAsync($"member-up name=b ");
            var (exitCode, get) = await Cli.RunAsync("dict", "get", Dictionary, "k");

            Assert.True(exitCode == 0, get.Transcript);
            var shown = Assert.Single(get.Stdout);
            var conflict = Assert.Single(get.Transcript.Split('\n'), line => line.StartsWith("[stderr] conflict: ", StringComparison.Ordinal));
            Assert.StartsWith("[stderr] conflict: 'k' holds concurrent writes: ", conflict);
            Assert.Contains("\"from-a\" from ", conflict);
            Assert.Contains("\"from-b\" from ", conflict);
            Assert.EndsWith($"; shows {shown}", conflict);
        }
        finally
        {
            apartDirectory.Delete(recursive: true);
        }

        static string Entry(MeshCli mesh, string nodeId) => Path.Combine(mesh.Discovery["local:".Length..], "mesh", nodeId + ".json");
    }

    private async Task SetAsync(string key, string json)
    {
        var (exitCode, set) = await Cli.RunAsync("dict", "set", Dictionary, key, json);
        Assert.True(exitCode == 0, set.Transcript);
    }
}
