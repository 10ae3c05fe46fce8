using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Hosting;
using MeshActors.Messaging;
using MeshActors.TestKit;
using MeshActors.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace MeshActors.Hosting.Tests;

/// <summary>
/// Hosted nodes at the edges of their life: options that are wrong in more than one way (docs/messaging.md, Hosting: a
/// bad setting fails the start naming every bad setting, and what the binder cannot make from text is refused naming
/// its key), an actor system that ends on its own, a stop the host cuts short.
/// </summary>
public sealed class MeshHostingLifecycleSpec(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "meshactors-hosting-" + Guid.NewGuid().ToString("N"));
    private readonly List<IHost> _hosts = [];
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private string Registry => "local:" + _root;

    private string Prefix { get; } = "hosting-" + Guid.NewGuid().ToString("N")[..8];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _release.TrySetResult();
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
    public async Task A_refused_configured_value_must_not_hide_the_other_bad_settings_from_the_start_failure()
    {
        // docs/messaging.md, Hosting: "a bad setting fails the start with an OptionsValidationException whose Failures name every bad setting".
        var host = Build("bad:name", new() { ["Mesh:Peers:OutboundQueueCapBytes"] = "0" });

        var ex = await StartInvalidAsync(host);

        Assert.Contains(ex.Failures, failure => failure.Contains("Mesh:Peers:OutboundQueueCapBytes"));
        Assert.Contains(ex.Failures, failure => failure.Contains("NodeName")); // validation still runs
    }

    [Fact]
    public async Task A_configured_value_that_does_not_convert_must_fail_the_start_with_an_OptionsValidationException_naming_every_bad_key()
    {
        var host = Build("unconvertible", new() { ["Mesh:Transport:ListenPort"] = "five thousand", ["Mesh:Peers:OutboundQueueCapBytes"] = "0" });

        var ex = await StartInvalidAsync(host); // not the binder's InvalidOperationException, naming the port alone

        Assert.Contains(ex.Failures, failure => failure.Contains("Mesh:Transport:ListenPort"));
        Assert.Contains(ex.Failures, failure => failure.Contains("Mesh:Peers:OutboundQueueCapBytes"));
    }

    [Theory]
    [InlineData("Mesh:Transport:Certificate", "node.pfx")]
    [InlineData("Mesh:Transport:Certificate:Path", "/nonexistent/node.pfx")]
    [InlineData("Mesh:Transport:RemoteCertificateValidation", "none")]
    [InlineData("Mesh:Transport:TrustedRoots", "ca.pem")]
    [InlineData("Mesh:Transport:TrustedRoots:Path", "/nonexistent/ca.pem")]
    public async Task A_TLS_setting_the_node_cannot_take_from_configuration_must_fail_the_start_naming_its_key(string key, string value)
    {
        var host = Build("tls", new() { [key] = value }); // left out silently, the node would speak cleartext

        var ex = await StartInvalidAsync(host);

        Assert.Contains(ex.Failures, failure => failure.Contains(key));
    }

    [Fact]
    public async Task A_PEM_certificate_whose_key_file_does_not_match_must_fail_the_start_naming_its_key()
    {
        var certificate = Path.Combine(Path.GetTempPath(), $"meshactors-{Guid.NewGuid():N}.crt");
        var key = Path.Combine(Path.GetTempPath(), $"meshactors-{Guid.NewGuid():N}.key");
        using (var ours = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        using (var another = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            using var created = new CertificateRequest("CN=meshactors-test", ours, HashAlgorithmName.SHA256)
                .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllTextAsync(certificate, created.ExportCertificatePem());
            await File.WriteAllTextAsync(key, another.ExportPkcs8PrivateKeyPem());
        }

        try
        {
            var host = Build("tls", new() { ["Mesh:Transport:Certificate:Path"] = certificate, ["Mesh:Transport:Certificate:KeyPath"] = key });

            var ex = await StartInvalidAsync(host);

            Assert.Contains(ex.Failures, failure => failure.Contains("Mesh:Transport:Certificate:Path"));
        }
        finally
        {
            File.Delete(certificate);
            File.Delete(key);
        }
    }

    [Fact]
    public async Task A_certificate_file_named_in_configuration_must_make_the_node_listen_with_TLS()
    {
        var file = Path.Combine(Path.GetTempPath(), $"meshactors-{Guid.NewGuid():N}.pfx");
        using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            var request = new CertificateRequest("CN=meshactors-test", key, HashAlgorithmName.SHA256);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllBytesAsync(file, certificate.Export(X509ContentType.Pfx, "secret"));
        }

        try
        {
            var host = Build("tls", new() { ["Mesh:Transport:Certificate:Path"] = file, ["Mesh:Transport:Certificate:Password"] = "secret" });
            var options = host.Services.GetRequiredService<IOptions<MeshOptions>>().Value;

            Assert.Equal("CN=meshactors-test", options.Transport.Certificate?.Subject);
            Assert.True(options.Transport.Certificate!.HasPrivateKey);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Hosts_configured_with_PEM_files_of_a_private_authority_must_talk_over_TLS()
    {
        using var authority = TestAuthority.Create();
        var directory = Directory.CreateTempSubdirectory("meshactors-tls-");
        try
        {
            var trusted = authority.WriteCertificatePem(directory.FullName);
            Dictionary<string, string?> Tls(string name)
            {
                var (certificate, key) = authority.WriteNodePem(directory.FullName, name);
                return new()
                {
                    ["Mesh:Transport:Certificate:Path"] = certificate,
                    ["Mesh:Transport:Certificate:KeyPath"] = key,
                    ["Mesh:Transport:TrustedRoots:Path"] = trusted,
                };
            }

            var alpha = Build("alpha", Tls("alpha"));
            var beta = Build("beta", Tls("beta"));
            await Task.WhenAll(alpha.StartAsync(), beta.StartAsync());
            using var echo = beta.Services.GetRequiredService<IMesh>().AddService<string, string>("echo", (request, _, _) => ValueTask.FromResult(request));

            var answer = await alpha.Services.GetRequiredService<IMesh>().RequestAsync<string, string>(
                "echo", "over TLS", new Messaging.RequestOptions { WaitForProvider = TestTimeouts.Default });

            Assert.Equal("over TLS", answer);
            Assert.Equal(authority.Certificate.Subject, alpha.Services.GetRequiredService<IOptions<MeshOptions>>().Value.Transport.TrustedRoots!.Single().Subject);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task The_health_check_must_report_unhealthy_once_the_nodes_actor_system_has_terminated()
    {
        var host = Build("terminated", configureServices: services =>
        {
            services.AddMeshActors();
            services.AddHealthChecks().AddMeshActors();
        });
        var health = host.Services.GetRequiredService<HealthCheckService>();
        await host.StartAsync();
        await Conditions.AwaitConditionAsync(
            async () => (await health.CheckHealthAsync()).Status == HealthStatus.Healthy, TestTimeouts.Default, message: "healthy once registered");
        var id = host.Services.GetRequiredService<IMesh>().Self.Id;

        // An actor calling Context.System.Terminate(), or application code holding the injected ActorSystem.
        await host.Services.GetRequiredService<ActorSystem>().Terminate().WithTimeout();

        // The node is gone from the mesh: its actors are stopped and its registry actor deregistered it on the way out.
        await using var registry = RegistryFactory.Create(new DiscoveryOptions { Registry = Registry, KeyPrefix = Prefix });
        await Conditions.AwaitConditionAsync(
            async () => (await registry.ListAsync()).Members.All(member => member.Id != id), TestTimeouts.Default, message: "deregistered");
        var entry = (await health.CheckHealthAsync()).Entries["mesh"];
        Assert.True(entry.Status == HealthStatus.Unhealthy, $"a node with no actors left must not report {entry.Status}: \"{entry.Description}\"");
    }

    [Fact]
    public async Task The_host_must_stop_when_the_nodes_actor_system_terminates_on_its_own()
    {
        var host = Build("terminated");
        await host.StartAsync();
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => stopping.TrySetResult());

        await host.Services.GetRequiredService<ActorSystem>().Terminate().WithTimeout();

        // As Akka.Hosting does: the application does not run on around a node whose actors are all gone.
        await stopping.Task.WithTimeout();
    }

    [Fact]
    public async Task A_host_whose_shutdown_timeout_cuts_the_nodes_graceful_stop_short_must_still_run_to_its_end_without_throwing()
    {
        var alpha = Build("alpha");
        var beta = Build("beta", configureHost: options => options.ShutdownTimeout = TimeSpan.FromMilliseconds(200));
        await alpha.StartAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var lifetime = beta.Services.GetRequiredService<IHostApplicationLifetime>();
        using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        var run = beta.RunAsync(); // as Program.Main does: await builder.Build().RunAsync()
        await started.Task.WithTimeout();
        var meshA = alpha.Services.GetRequiredService<IMesh>();
        var meshB = beta.Services.GetRequiredService<IMesh>();
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var service = meshB.AddService<string, string>("slow", async (request, _, _) =>
        {
            running.TrySetResult();
            await _release.Task;
            return request;
        });
        var call = meshA.RequestAsync<string, string>("slow", "hi", new Messaging.RequestOptions { WaitForProvider = TestTimeouts.Default, Timeout = TestTimeouts.Long });
        await running.Task.WithTimeout();

        // Ctrl+C: the graceful stop waits up to GoodbyeGrace (5 s) for the request in flight; the host allows 200 ms.
        lifetime.StopApplication();
        var failure = await Record.ExceptionAsync(() => run.WithTimeout());

        Assert.True(meshB.System.WhenTerminated.IsCompleted, "the node stopped all the same");
        Assert.Null(failure); // an exception out of RunAsync would end Main unhandled (exit code 134)
        _hosts.Remove(beta); // RunAsync disposed it
        _ = call.ContinueWith(static _ => { }, TaskScheduler.Default);
    }

    [Fact]
    public async Task A_host_whose_actor_setup_fails_must_not_leave_its_node_listening_registered_or_running()
    {
        // docs/messaging.md, Hosting: WithActors is where the application creates its actors; a setup that throws fails
        // the host's start. The generic host does not stop the hosted services of a start that failed, so the hosted
        // service must not leave behind the node it had started: its port, its actor system, its registry entry.
        MeshMember? self = null;
        var host = Build("setup-fails", configureServices: services => services.AddMeshActors().WithActors((_, _, mesh) =>
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

    private async Task<OptionsValidationException> StartInvalidAsync(IHost host)
    {
        _hosts.Remove(host); // a host that failed to start is not stopped
        try
        {
            return await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        }
        finally
        {
            host.Dispose();
        }
    }

    [Fact]
    public async Task Every_bad_discovery_and_messaging_setting_must_be_named_in_the_start_failure_not_only_the_first_of_each_record()
    {
        // MeshOptions.ValidationErrors: "Every setting that cannot work, each as one sentence naming it". Four bad
        // settings, two in each record: an operator fixing them one start at a time must not find them two by two.
        var host = Build("four-bad", new()
        {
            ["Mesh:Discovery:CommandTimeout"] = "00:00:00",
            ["Mesh:Discovery:MaxRegistrationBytes"] = "10",
            ["Mesh:Messaging:RequestTimeout"] = "00:00:00",
            ["Mesh:Messaging:SubscriberBacklogLimit"] = "1",
        });

        var failure = await Record.ExceptionAsync(() => host.StartAsync());

        var refused = Assert.IsType<OptionsValidationException>(failure);
        foreach (var setting in new[] { "CommandTimeout", "MaxRegistrationBytes", "RequestTimeout", "SubscriberBacklogLimit" })
            Assert.True(refused.Failures.Any(text => text.Contains(setting)), $"{setting} is not named; the failures were:\n{string.Join("\n", refused.Failures)}");
    }

    [Theory]
    [InlineData("7")]
    [InlineData("-1")]
    public async Task A_configured_overflow_policy_that_is_no_policy_must_fail_the_start_naming_its_key(string value)
    {
        // PeerOverflowPolicy has two values, Wait and Fail. The binder takes any number for an enum; PeerLink treats
        // every value but Wait as Fail, so a node configured with nonsense runs dropping sends that should have waited.
        var host = Build("overflow", new() { ["Mesh:Peers:OverflowPolicy"] = value });

        var failure = await Record.ExceptionAsync(() => host.StartAsync());

        if (failure is null)
            Assert.Fail($"OverflowPolicy = '{value}' was accepted: the node runs with policy {host.Services.GetRequiredService<IOptions<MeshOptions>>().Value.Peers.OverflowPolicy}");
        var refused = Assert.IsType<OptionsValidationException>(failure);
        Assert.Contains(refused.Failures, text => text.Contains("OverflowPolicy"));
    }

    [Theory]
    [InlineData("Mesh:Transport:CertificateChain", "chain.pem")]
    [InlineData("Mesh:Transport:CertificateChain:Path", "chain.pem")]
    public async Task A_configured_certificate_chain_must_be_applied_or_refused_naming_its_key_never_left_out_silently(string key, string value)
    {
        // The factory refuses the other TLS objects given as text (Certificate, TrustedRoots, RemoteCertificateValidation)
        // because the binder would leave them out without a word. Without a Certificate a chain cannot work either way:
        // applied, the options refuse "CertificateChain is set without a Certificate"; refused, its key is named.
        var host = Build("chain", new() { [key] = value });

        var failure = await Record.ExceptionAsync(() => host.StartAsync());

        if (failure is null)
            Assert.Fail($"{key} = '{value}' was left out without a word: the node started, its chain {host.Services.GetRequiredService<IOptions<MeshOptions>>().Value.Transport.CertificateChain?.Count.ToString() ?? "null"}");
        var refused = Assert.IsType<OptionsValidationException>(failure);
        Assert.Contains(refused.Failures, text => text.Contains("CertificateChain"));
    }

    private IHost Build(
        string name,
        Dictionary<string, string?>? settings = null,
        Action<IServiceCollection>? configureServices = null,
        Action<HostOptions>? configureHost = null)
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
        if (configureHost is not null)
            builder.Services.Configure(configureHost);
        if (configureServices is not null)
            configureServices(builder.Services);
        else
            builder.Services.AddMeshActors();
        var host = builder.Build();
        _hosts.Add(host);
        return host;
    }
}
