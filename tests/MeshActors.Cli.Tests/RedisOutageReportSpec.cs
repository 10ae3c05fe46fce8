namespace MeshActors.Cli.Tests;

/// <summary>
/// The one-shot commands against a real redis-server that answers but refuses every write (it filled its maxmemory, the
/// default policy being noeviction), or holds every write unanswered: the one line a failure ends with must say what
/// went wrong, and not more than it knows.
/// </summary>
public sealed class RedisOutageReportSpec : IAsyncLifetime
{
    private readonly MeshActors.Testing.RedisServer _redis = new();
    private MeshCli _cli = null!;

    public async Task InitializeAsync()
    {
        await _redis.StartAsync();
        _cli = new MeshCli($"redis://{_redis.ConnectionString}");
    }

    public async Task DisposeAsync()
    {
        await _cli.DisposeAsync();
        await _redis.StopAsync();
    }

    [Theory]
    [InlineData("list")]
    [InlineData("ping", "alice", "-c", "1")]
    public async Task A_command_must_name_the_registry_error_when_a_full_redis_refuses_writes_instead_of_saying_it_did_not_answer(params string[] command)
    {
        // Over its maxmemory at once: every SET is answered at once with -OOM, reads and PING still work.
        Assert.Equal("OK", await _redis.CommandAsync("CONFIG", "SET", "maxmemory", "1"));
        Assert.Equal("OK", await _redis.CommandAsync("CONFIG", "SET", "maxmemory-policy", "noeviction"));
        Assert.Equal("PONG", await _redis.CommandAsync("PING"));

        // --log-level Error: the failure line is all the user gets (docs/cli.md, Output).
        var (exitCode, run) = await _cli.RunAsync([.. command, "--log-level", "Error"]);

        Assert.True(exitCode == 1, run.Transcript);
        var failure = run.Transcript.Trim().Split('\n').Last().Trim();
        Assert.StartsWith($"[stderr] mesh: registry redis {_redis.ConnectionString} prefix mesh", failure);
        // Redis answered every call within milliseconds: it refused the registration, it did not stay silent.
        Assert.DoesNotContain("did not answer", failure);
        Assert.Contains("OOM", failure);
    }

    [Theory]
    [InlineData("list")]
    [InlineData("ping", "alice", "-c", "1")]
    public async Task A_command_must_not_say_a_slow_registry_refused_its_calls_when_redis_holds_every_write_unanswered(params string[] command)
    {
        // Redis holds every write (SET included) without an answer for 60 s; reads, PING and the handshake still work.
        Assert.Equal("OK", await _redis.CommandAsync("CLIENT", "PAUSE", "60000", "WRITE"));
        Assert.Equal("PONG", await _redis.CommandAsync("PING"));

        var (exitCode, run) = await _cli.RunAsync([.. command, "--log-level", "Error"]);

        Assert.True(exitCode == 1, run.Transcript);
        var failure = run.Transcript.Trim().Split('\n').Last().Trim();
        Assert.StartsWith($"[stderr] mesh: registry redis {_redis.ConnectionString} prefix mesh", failure);
        // It refused nothing: it never answered the registration (docs/cli.md: a registry that does not answer within 3 s).
        Assert.DoesNotContain("refused", failure);
        Assert.True(
            failure.Contains("did not answer", StringComparison.Ordinal) || failure.Contains("timed out", StringComparison.Ordinal)
            || failure.EndsWith("is unreachable.", StringComparison.Ordinal),
            failure);
    }
}
