using System.Diagnostics.Metrics;
using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Hosting;
using MeshActors.TestKit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace MeshActors.Hosting.Tests;

/// <summary>Mesh nodes inside real generic hosts: configuration, validation, start and graceful stop, the actor registry.</summary>
public sealed class MeshHostingSpec(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "meshactors-hosting-" + Guid.NewGuid().ToString("N"));
    private readonly List<IHost> _hosts = [];

    private string Registry => "local:" + _root;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.StopAsync();
            host.Dispose();
        }

        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Two_hosted_nodes_must_exchange_a_message_and_a_stopped_host_must_deregister_at_once()
    {
        var a = Build("alpha");
        var b = Build("beta");
        await a.StartAsync();
        await b.StartAsync();
        var meshA = a.Services.GetRequiredService<IMesh>();
        var meshB = b.Services.GetRequiredService<IMesh>();
        var received = new TaskCompletionSource<(string Text, string Sender)>();
        await meshB.Subscribe<string>("greetings", (text, context) =>
        {
            received.TrySetResult((text, context.SenderName));
            return default;
        }).Ready;
        await meshA.WaitForSubscriberAsync("greetings", TestTimeouts.Default);

        await meshA.PublishAsync("greetings", "hello from alpha");

        Assert.Equal(("hello from alpha", "alpha"), await received.Task.WithTimeout());

        var left = new TaskCompletionSource<MemberDown>();
        using var watching = meshA.OnMembership(e =>
        {
            if (e is MemberDown down && down.Member.Id == meshB.Self.Id)
                left.TrySetResult(down);
        });
        await b.StopAsync();

        Assert.Equal(MemberDownReason.Left, (await left.Task.WithTimeout()).Reason);
        await using var registry = RegistryFactory.Create(new DiscoveryOptions { Registry = Registry, KeyPrefix = Prefix });
        Assert.DoesNotContain((await registry.ListAsync()).Members, member => member.Id == meshB.Self.Id);
    }

    [Fact]
    public void Options_must_bind_from_the_Mesh_section_then_the_callbacks()
    {
        var host = Build("from-config", new Dictionary<string, string?>
        {
            ["Mesh:Transport:ListenPort"] = "0",
            ["Mesh:Peers:OutboundQueueCapBytes"] = "1048576",
            ["Mesh:Messaging:RequestTimeout"] = "00:00:02",
        }, options => options with { Messaging = options.Messaging with { RequestTimeout = options.Messaging.RequestTimeout * 2 } });

        var options = host.Services.GetRequiredService<IOptions<MeshOptions>>().Value;

        Assert.Equal("from-config", options.NodeName);
        Assert.Equal(1048576, options.Peers.OutboundQueueCapBytes);
        Assert.Equal(TimeSpan.FromSeconds(4), options.Messaging.RequestTimeout);
        Assert.Equal(Registry, options.Discovery.Registry);
    }

    [Fact]
    public async Task Invalid_options_must_fail_the_start_with_messages_naming_the_settings()
    {
        var host = Build("bad:name", new Dictionary<string, string?> { ["Mesh:Transport:ListenPort"] = "70000", ["Mesh:Transport:AdvertisedHost"] = "my host" });

        var ex = await StartInvalidAsync(host);

        Assert.Contains(ex.Failures, failure => failure.Contains("NodeName"));
        Assert.Contains(ex.Failures, failure => failure.Contains("ListenPort"));
        Assert.Contains(ex.Failures, failure => failure.Contains("AdvertisedHost 'my host'"));
    }

    [Theory]
    [InlineData("Mesh:Peers:OutboundQueueCapBytes", "0")]
    [InlineData("Mesh:Peers:LivenessTimeout", "00:00:00.050")]
    [InlineData("Mesh:Protocol:MaxFrameSize", "1")]
    public async Task A_configured_value_its_option_refuses_must_fail_the_start_with_a_message_naming_the_key(string key, string value)
    {
        var host = Build("refused", new() { [key] = value });

        var ex = await StartInvalidAsync(host);

        var failure = Assert.Single(ex.Failures);
        Assert.Contains(key, failure);
        Assert.Contains("must be greater than or equal to", failure); // the option's own message
    }

    [Fact]
    public async Task Every_refused_configuration_key_must_be_named_not_only_the_first()
    {
        var host = Build("refused", new()
        {
            ["Mesh:Peers:OutboundQueueCapBytes"] = "0",
            ["Mesh:Protocol:MaxFrameSize"] = "1",
        });

        var ex = await StartInvalidAsync(host);

        Assert.Contains(ex.Failures, failure => failure.Contains("Mesh:Peers:OutboundQueueCapBytes"));
        Assert.Contains(ex.Failures, failure => failure.Contains("Mesh:Protocol:MaxFrameSize"));
    }

    [Theory]
    [InlineData("HeartbeatInterval", "00:00:01", "LivenessTimeout", "00:00:00.500")] // closed before the first ping
    [InlineData("HeartbeatInterval", "00:00:01", "LivenessTimeout", "00:00:01.500")] // idle pings come up to 1.5 intervals apart
    [InlineData("ReconnectMinBackoff", "00:00:10", "ReconnectMaxBackoff", "00:00:05")]
    public async Task Peer_settings_that_contradict_each_other_must_fail_the_start_naming_both(string first, string firstValue, string second, string secondValue)
    {
        var host = Build("contradicted", new() { ["Mesh:Peers:" + first] = firstValue, ["Mesh:Peers:" + second] = secondValue });

        var ex = await StartInvalidAsync(host);

        var failure = Assert.Single(ex.Failures);
        Assert.Contains(first, failure);
        Assert.Contains(second, failure);
    }

    [Fact]
    public async Task The_actor_registry_must_give_the_mesh_actors_and_the_applications_own()
    {
        var host = Build("registry", configureServices: services => services.AddMeshActors()
            .WithActors((system, registry, _) => registry.Register<EchoKey>(system.ActorOf(Props.Create(() => new Echo()), "echo"))));
        var topicRouter = host.Services.GetRequiredService<IRequiredActor<TopicRouterKey>>();
        var pending = topicRouter.GetAsync();
        Assert.Throws<KeyNotFoundException>(() => topicRouter.ActorRef);

        await host.StartAsync();

        var mesh = host.Services.GetRequiredService<IMesh>();
        Assert.Equal(mesh.TopicRouter, await pending.WithTimeout());
        Assert.Equal(mesh.Services, host.Services.GetRequiredService<IRequiredActor<ServicesKey>>().ActorRef);
        var echo = host.Services.GetRequiredService<IRequiredActor<EchoKey>>().ActorRef;
        Assert.Equal("hi", await echo.Ask<string>("hi"));
        Assert.Same(mesh.System, host.Services.GetRequiredService<ActorSystem>());
    }

    [Fact]
    public async Task The_node_must_put_its_meter_on_the_hosts_meter_factory()
    {
        var host = Build("measured");
        var factory = host.Services.GetRequiredService<IMeterFactory>();
        using var listener = new MeterListener();
        var meters = new List<Meter>();
        listener.InstrumentPublished = (instrument, _) =>
        {
            if (instrument.Meter.Name == "MeshActors")
            {
                lock (meters)
                    meters.Add(instrument.Meter);
            }
        };
        listener.Start();

        await host.StartAsync();

        var id = host.Services.GetRequiredService<IMesh>().Self.Id;
        lock (meters)
        {
            var meter = meters.Distinct().Single(m => m.Tags!.Contains(new KeyValuePair<string, object?>("meshactors.node.id", id)));
            Assert.Same(factory, meter.Scope);
        }
    }

    [Fact]
    public async Task The_health_check_must_follow_the_node_and_its_registry()
    {
        await using var redis = new RedisServer();
        await redis.StartAsync();
        var host = Build("checked", new() { ["Mesh:Discovery:Registry"] = "redis://" + redis.ConnectionString }, configureServices: services =>
        {
            services.AddMeshActors();
            services.AddHealthChecks().AddMeshActors();
        });
        var health = host.Services.GetRequiredService<HealthCheckService>();
        Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync()).Status);

        await host.StartAsync();

        await Conditions.AwaitConditionAsync(
            async () => (await health.CheckHealthAsync()).Status == HealthStatus.Healthy, TestTimeouts.Default, message: "healthy once registered");
        var running = (await health.CheckHealthAsync()).Entries["mesh"];
        Assert.Equal(host.Services.GetRequiredService<IMesh>().Self.Id, running.Data["node"]);

        await redis.StopAsync();

        await Conditions.AwaitConditionAsync(
            async () => (await health.CheckHealthAsync()).Status == HealthStatus.Degraded, TestTimeouts.Default, message: "degraded once Redis is gone");
    }

    [Fact]
    public async Task The_health_check_must_report_degraded_while_the_registrys_calls_fail_on_a_live_connection()
    {
        // The local directory is always "connected": only the registry's calls can tell it is broken.
        var host = Build("checked", configureServices: services =>
        {
            services.AddMeshActors();
            services.AddHealthChecks().AddMeshActors();
        });
        var health = host.Services.GetRequiredService<HealthCheckService>();
        await host.StartAsync();
        await Conditions.AwaitConditionAsync(
            async () => (await health.CheckHealthAsync()).Status == HealthStatus.Healthy, TestTimeouts.Default, message: "healthy once registered");

        var directory = Path.Combine(_root, Prefix);
        Directory.Delete(directory, recursive: true);
        await File.WriteAllTextAsync(directory, "a file where the registry's directory was"); // every write fails now

        await Conditions.AwaitConditionAsync(
            async () => (await health.CheckHealthAsync()).Status == HealthStatus.Degraded, TestTimeouts.Default, message: "degraded while writes fail");
        Assert.Contains("is failing", (await health.CheckHealthAsync()).Entries["mesh"].Description);

        File.Delete(directory);

        await Conditions.AwaitConditionAsync(
            async () => (await health.CheckHealthAsync()).Status == HealthStatus.Healthy, TestTimeouts.Default, message: "healthy once writes work again");
    }

    [Fact]
    public void The_mesh_must_say_it_is_not_started_before_the_host_starts()
    {
        var mesh = Build("early").Services.GetRequiredService<IMesh>();

        var ex = Assert.Throws<InvalidOperationException>(() => mesh.Self);

        Assert.Contains("not started", ex.Message);
    }

    private string Prefix { get; } = "hosting-" + Guid.NewGuid().ToString("N")[..8];

    private async Task<OptionsValidationException> StartInvalidAsync(IHost host)
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        _hosts.Remove(host); // a host that failed to start cannot be stopped
        host.Dispose();
        return ex;
    }

    private IHost Build(
        string name,
        Dictionary<string, string?>? settings = null,
        Func<MeshOptions, MeshOptions>? configure = null,
        Action<IServiceCollection>? configureServices = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Mesh:NodeName"] = name,
            ["Mesh:Discovery:Registry"] = Registry,
            ["Mesh:Discovery:KeyPrefix"] = Prefix,
            ["Mesh:Discovery:HeartbeatInterval"] = "00:00:00.250",
            ["Mesh:Discovery:Ttl"] = "00:00:02",
        });
        if (settings is not null)
            builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddProvider(new OutputLoggerProvider(output));
        if (configureServices is not null)
            configureServices(builder.Services);
        else
            builder.Services.AddMeshActors(configure);
        var host = builder.Build();
        _hosts.Add(host);
        return host;
    }

    private sealed class EchoKey;

    private sealed class Echo : ReceiveActor
    {
        public Echo() => Receive<string>(text => Sender.Tell(text));
    }
}
