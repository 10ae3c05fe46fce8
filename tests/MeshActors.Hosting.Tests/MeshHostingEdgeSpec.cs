using System.Net.Sockets;
using MeshActors.Discovery;
using MeshActors.Hosting;
using MeshActors.Messaging;
using MeshActors.TestKit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace MeshActors.Hosting.Tests;

/// <summary>Hosted nodes whose start goes wrong after the node is up, and configured settings the binder cannot take.</summary>
public sealed class MeshHostingEdgeSpec(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "meshactors-hosting-" + Guid.NewGuid().ToString("N"));
    private readonly List<IHost> _hosts = [];

    private string Registry => "local:" + _root;

    private string Prefix { get; } = "hosting-" + Guid.NewGuid().ToString("N")[..8];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            try
            {
                await host.StopAsync();
            }
            catch (Exception ex)
            {
                output.WriteLine("stop at the end: " + ex.GetType().Name);
            }

            host.Dispose();
        }

        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task A_host_whose_actor_setup_fails_must_not_leave_its_node_listening_registered_or_running()
    {
        // docs/messaging.md, Hosting: WithActors is where the application creates its actors; a setup that throws fails
        // the host's start. The generic host does not stop the hosted services of a start that failed, so the hosted
        // service must not leave behind the node it had started: its port, its actor system, its registry entry.
        MeshMember? self = null;
        var host = Build("setup-fails", services => services.AddMeshActors().WithActors((_, _, mesh) =>
        {
            self = mesh.Self;
            throw new InvalidOperationException("the application's actors could not be created");
        }));

        var failure = await Record.ExceptionAsync(() => host.StartAsync());

        Assert.IsType<InvalidOperationException>(failure);
        Assert.NotNull(self);
        var node = host.Services.GetRequiredService<MeshNode>();
        await using var registry = RegistryFactory.Create(new DiscoveryOptions { Registry = Registry, KeyPrefix = Prefix });
        await Conditions.AwaitConditionAsync(
            async () => node.System.WhenTerminated.IsCompleted
                && !await AcceptsAsync(self!.Host, self.Port)
                && (await registry.ListAsync()).Members.All(member => member.Id != self.Id),
            TestTimeouts.Default,
            message: $"node {self!.Id} left running after the host's start failed (actor system terminated: {node.System.WhenTerminated.IsCompleted})");
    }

    [Theory]
    [InlineData("Mesh:Messaging:TopicGroupBalancer", "Broadcast")]
    [InlineData("Mesh:Messaging:ServiceBalancer", "Random")]
    public async Task A_configured_load_balancer_must_be_applied_or_fail_the_start_naming_its_key_never_be_left_out_silently(string key, string value)
    {
        // docs/messaging.md, Hosting: AddMeshActors binds section Mesh onto MeshOptions, the same names as the option
        // records. The binder leaves out a plain value for an interface-typed option without a word (the factory knows
        // this and refuses such TLS values); a group configured for Broadcast would then run round-robin, each node of
        // the group getting only some of the messages.
        var host = Build("balanced", settings: new() { [key] = value });

        var failure = await Record.ExceptionAsync(() => host.StartAsync());

        if (failure is OptionsValidationException refused)
        {
            Assert.Contains(refused.Failures, text => text.Contains(key));
            return;
        }

        Assert.Null(failure);
        var messaging = host.Services.GetRequiredService<IOptions<MeshOptions>>().Value.Messaging;
        var applied = key.EndsWith("TopicGroupBalancer", StringComparison.Ordinal) ? messaging.TopicGroupBalancer : messaging.ServiceBalancer;
        Assert.True(
            ReferenceEquals(applied, value == "Broadcast" ? LoadBalancers.Broadcast : LoadBalancers.Random),
            $"{key} = '{value}' was accepted, but the node runs with {applied}");
    }

    [Fact]
    public async Task A_configured_Json_setting_must_be_applied_or_fail_the_start_with_an_OptionsValidationException_naming_its_key()
    {
        // docs/messaging.md, Hosting: "a bad setting fails the start with an OptionsValidationException whose Failures
        // name every bad setting"; a value its option refuses "names its key, its value and why".
        var host = Build("json", settings: new() { ["Mesh:Json:WriteIndented"] = "true", ["Mesh:Peers:OutboundQueueCapBytes"] = "0" });

        var failure = await Record.ExceptionAsync(() => host.StartAsync());

        var refused = Assert.IsType<OptionsValidationException>(failure); // not a bare TargetInvocationException naming no key
        Assert.Contains(refused.Failures, text => text.Contains("Mesh:Peers:OutboundQueueCapBytes")); // not hidden by the Json setting
        _hosts.Remove(host);
        host.Dispose();

        var alone = Build("json", settings: new() { ["Mesh:Json:WriteIndented"] = "true" });
        var aloneFailure = await Record.ExceptionAsync(() => alone.StartAsync());
        if (aloneFailure is not null)
        {
            var named = Assert.IsType<OptionsValidationException>(aloneFailure);
            Assert.Contains(named.Failures, text => text.Contains("Mesh:Json:WriteIndented"));
            return;
        }

        Assert.True(alone.Services.GetRequiredService<IOptions<MeshOptions>>().Value.Json.WriteIndented);
    }

    private static async Task<bool> AcceptsAsync(string host, int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(host, port).WaitAsync(TestTimeouts.Default);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private IHost Build(string name, Action<IServiceCollection>? configureServices = null, Dictionary<string, string?>? settings = null)
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
            builder.Services.AddMeshActors();
        var host = builder.Build();
        _hosts.Add(host);
        return host;
    }
}
