using MeshActors.Discovery;
using MeshActors.Discovery.Local;
using MeshActors.Discovery.Redis;

namespace MeshActors.Tests.Discovery;

/// <summary>One setting string chooses the backend; bad settings fail at start with a message that says what to write instead.</summary>
public sealed class RegistryFactorySpec
{
    [Theory]
    [InlineData("localhost:6379", "localhost:6379", null, null)]
    [InlineData("redis://10.1.2.3", "10.1.2.3:6379", null, null)]
    [InlineData("redis://:s3cret@cache.internal:6380/2", "cache.internal:6380", "s3cret", 2)]
    [InlineData("redis://default:p%40ss@cache:7000", "cache:7000", "p@ss", null)]
    [InlineData("cache:6380,password=s3cret,abortConnect=true,defaultDatabase=3", "cache:6380", "s3cret", 3)]
    public void Redis_connection_strings_must_parse_and_never_abort_on_a_failed_connect(string setting, string endpoint, string? password, int? database)
    {
        var options = RedisConnectionString.Parse(setting);

        Assert.Equal(endpoint, RedisConnectionString.Describe(Assert.Single(options.EndPoints)));
        Assert.Equal(password, options.Password);
        Assert.Equal(database, options.DefaultDatabase);
        Assert.False(options.AbortOnConnectFail);
    }

    [Fact]
    public void A_rediss_url_must_turn_on_tls()
    {
        var options = RedisConnectionString.Parse("rediss://:pw@cache.example:6380");

        Assert.True(options.Ssl);
        Assert.Equal("cache.example", options.SslHost);
    }

    [Theory]
    [InlineData("redis://alice:pw@cache", "names a user")]
    [InlineData("redis://cache/orders", "database number")]
    [InlineData("redis://cache?timeout=1", "query")]
    [InlineData("cache:6379,bogusOption=1", "bogusOption")]
    [InlineData("redis://alice:hunter2@cache", "***")]
    public void Bad_redis_connection_strings_must_fail_with_a_clear_message(string setting, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => RedisConnectionString.Parse(setting));

        Assert.Contains(message, error.Message);
        Assert.DoesNotContain("hunter2", error.Message);
    }

    [Fact]
    public async Task Local_settings_must_choose_the_directory_registry_under_the_prefix()
    {
        var root = Path.Combine(Path.GetTempPath(), "meshactors-spec-" + Guid.NewGuid().ToString("N"));
        var prefix = "spec-" + Guid.NewGuid().ToString("N")[..8];
        var defaultDirectory = Path.Combine(Path.GetTempPath(), "meshactors", prefix);
        try
        {
            await using var registry = RegistryFactory.Create(new DiscoveryOptions { Registry = "local:" + root, KeyPrefix = prefix });
            await using var byDefault = RegistryFactory.Create(new DiscoveryOptions { KeyPrefix = prefix });

            Assert.IsType<LocalDirectoryRegistry>(registry);
            Assert.Equal("local " + Path.Combine(root, prefix), registry.Description);
            Assert.Equal("local " + defaultDirectory, byDefault.Description);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
            Directory.Delete(defaultDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task A_redis_setting_must_choose_the_redis_registry_without_waiting_for_redis()
    {
        await using var registry = RegistryFactory.Create(new DiscoveryOptions { Registry = "redis://127.0.0.1:1", KeyPrefix = "blue" });

        Assert.IsType<RedisRegistry>(registry);
        Assert.Equal("redis 127.0.0.1:1 prefix blue", registry.Description);
        Assert.Equal(RegistryConnectionState.Disconnected, registry.ConnectionState);
    }

    public static TheoryData<DiscoveryOptions, string> BadOptions => new()
    {
        { new DiscoveryOptions { Registry = " " }, "Registry is empty" },
        { new DiscoveryOptions { Registry = "local:" }, "names no directory" },
        { new DiscoveryOptions { Ttl = TimeSpan.FromMilliseconds(1500) }, "whole number of seconds" },
        { new DiscoveryOptions { Ttl = TimeSpan.FromSeconds(2), HeartbeatInterval = TimeSpan.FromSeconds(2) }, "longer than HeartbeatInterval" },
        { new DiscoveryOptions { KeyPrefix = "mesh*" }, "Key prefix 'mesh*'" },
        { new DiscoveryOptions { KeyPrefix = "../etc" }, "Key prefix '../etc'" },
        { new DiscoveryOptions { MaxRegistrationBytes = 10 }, "MaxRegistrationBytes" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Options_that_cannot_work_must_be_refused_at_start(DiscoveryOptions options, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => RegistryFactory.Create(options));

        Assert.Contains(message, error.Message);
    }
}
