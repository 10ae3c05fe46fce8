using MeshActors.Discovery;

namespace MeshActors.Cli.Tests;

/// <summary>What README.md and samples/README.md promise of the samples and of the README's own code, held against real processes and a real mesh.</summary>
public sealed class SamplePromisesSpec
{
    [Theory]
    [InlineData("abc")]
    [InlineData("99999999999")]
    public async Task PingPong_pinger_must_refuse_a_count_that_is_not_a_number_with_its_usage_and_exit_2(string count)
    {
        // samples/PingPong: "usage: PingPong ponger | pinger [count]" and exit 2 for a bad role; a bad count is as bad an
        // argument, and must not join the mesh, crash with a stack trace and abort (exit 134, a core dump).
        using var registry = new TemporaryDirectory("meshactors-pingpong-spec-");
        await using var pinger = ChildProcess.Start(
            "dotnet",
            ["run", "-c", Configuration, "--project", RepositoryPaths.File("samples", "PingPong"), "--", "pinger", count],
            new Dictionary<string, string> { ["MESH_DISCOVERY"] = "local:" + registry.Path });

        var exitCode = await pinger.WaitForExitAsync(TimeSpan.FromMinutes(3)); // dotnet run builds it first
        Assert.True(exitCode == 2, $"exit code {exitCode}, not 2:\n{pinger.Transcript}");
        Assert.Contains("usage: PingPong ponger | pinger [count]", pinger.Transcript);
        Assert.DoesNotContain("Unhandled exception", pinger.Transcript);
    }

    [Fact]
    public async Task Quickstart_must_remove_its_temporary_registry_when_SIGTERM_stops_it()
    {
        // README.md: the Quickstart runs "two nodes over real HTTP/2 on loopback, local registry, no Redis; exits by itself".
        // A user who stops it early (Ctrl+C, or SIGTERM as here) expects it to end as cleanly as when it finishes: its
        // nodes leave and its temporary registry (a directory under the temp directory, deleted in a finally) goes.
        using var temp = new TemporaryDirectory("meshactors-quickstart-spec-");
        await using var quickstart = ChildProcess.Start(
            "dotnet", [SampleDll("Quickstart")], new Dictionary<string, string> { ["TMPDIR"] = temp.Path });
        await quickstart.WaitForLineAsync("== 1. Bidirectional streaming"); // both nodes registered; 500 ms of streaming to go
        Assert.NotEmpty(Directory.GetDirectories(temp.Path, "meshactors-quickstart-*"));

        quickstart.Terminate();
        await quickstart.WaitForExitAsync();

        var left = Directory.GetFileSystemEntries(temp.Path, "*.json", SearchOption.AllDirectories);
        Assert.True(
            Directory.GetDirectories(temp.Path, "meshactors-quickstart-*").Length == 0,
            $"left behind: {string.Join(", ", left)}\n{quickstart.Transcript}");
    }

    [Fact]
    public async Task The_READMEs_use_it_snippet_must_deliver_its_published_price_and_answer_its_quote_request()
    {
        // README.md, "Use it", as written (but for a private registry instead of the machine's shared one): the node
        // subscribes, hosts 'quote', publishes a price and calls 'quote', all on itself. Without its awaits of Ready the
        // snippet would race the node's actors, so it runs several times: each run must work, as a reader who copies it
        // expects.
        using var registry = new TemporaryDirectory("meshactors-readme-spec-");
        for (var run = 1; run <= 10; run++)
        {
            var heard = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);

            await using var node = await MeshNode.StartAsync(new MeshOptions
            {
                NodeName = "pricing",
                Discovery = new DiscoveryOptions { Registry = "local:" + registry.Path },
            });
            await node.Joined.WaitAsync(TestTimeouts.Default);

            using var prices = node.Subscribe<Price>("prices", (price, context) =>
            {
                heard.TrySetResult($"{price.Symbol} {price.Px} from {context.SenderName}");
                return ValueTask.CompletedTask;
            });
            await prices.Ready;

            using var quote = node.AddService<QuoteRequest, Price>("quote", (request, context, cancellationToken) =>
                ValueTask.FromResult(new Price(request.Symbol, 101.5)));
            await quote.Ready;

            await node.PublishAsync("prices", new Price("ABC", 101.5));
            var failure = await Record.ExceptionAsync(async () =>
                Assert.Equal(new Price("ABC", 101.5), await node.RequestAsync<QuoteRequest, Price>("quote", new QuoteRequest("ABC"))));

            var delivered = await Record.ExceptionAsync(() => heard.Task.WaitAsync(TestTimeouts.Default)) is null;
            Assert.True(failure is null && delivered,
                $"run {run}: request: {failure?.GetType().Name}: {failure?.Message ?? "answered"}; price {(delivered ? "delivered" : "never delivered")}");
        }
    }

    public sealed record Price(string Symbol, double Px);

    public sealed record QuoteRequest(string Symbol);

    private static string Configuration => new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/{configuration}/net10.0/

    private static string SampleDll(string name)
    {
        var dll = RepositoryPaths.File("samples", name, "bin", Configuration, "net10.0", name + ".dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build the tests (they build the samples first).");
        return dll;
    }

    private sealed class TemporaryDirectory(string prefix) : IDisposable
    {
        private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory(prefix);

        public string Path => _directory.FullName;

        public void Dispose() => _directory.Delete(recursive: true);
    }
}
