using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using MeshActors.Actors;
using MeshActors.Discovery;
using MeshActors.Messaging;
using MeshActors.TestKit;
using MeshActors.Tests.Transport;
using MeshActors.Transport;
using Xunit.Abstractions;

namespace MeshActors.Tests.Mesh;

/// <summary>The node facade's lifecycle and the options it accepts, on real nodes over a local registry of the test's own.</summary>
public sealed class MeshNodeLifecycleSpec(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "meshactors-lifecycle-" + Guid.NewGuid().ToString("N"));
    private readonly TestLog _log = new(output);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    // Unchecked, the first four would make the peer manager's constructor throw (the listener or Kestrel refuses them),
    // and StartAsync fail with an ActorTerminatedException that names no setting; with a negative ConnectTimeout the
    // node would start, register and never connect to anyone; with a negative ShutdownTimeout the stopped node's port
    // would still accept connections.
    [Theory]
    [InlineData("Http2ConnectionWindowSize")]
    [InlineData("Http2MaxFrameSize")]
    [InlineData("KeepAlivePingDelay")]
    [InlineData("MaxChannelsPerConnection")]
    [InlineData("ConnectTimeout")]
    [InlineData("ShutdownTimeout")]
    public void A_transport_setting_the_listener_or_dialer_cannot_use_must_be_refused_with_the_other_option_errors_naming_it(string setting)
    {
        var refusal = Refusal(() => Options("a") with
        {
            Transport = setting switch
            {
                "Http2ConnectionWindowSize" => new TransportOptions { Http2ConnectionWindowSize = 4 * 1024 * 1024, Http2StreamWindowSize = 4 * 1024 * 1024 },
                "Http2MaxFrameSize" => new TransportOptions { Http2MaxFrameSize = 1000 },
                "KeepAlivePingDelay" => new TransportOptions { KeepAlivePingDelay = TimeSpan.FromMilliseconds(100) },
                "MaxChannelsPerConnection" => new TransportOptions { MaxChannelsPerConnection = 0 },
                "ConnectTimeout" => new TransportOptions { ConnectTimeout = TimeSpan.FromSeconds(-2) },
                "ShutdownTimeout" => new TransportOptions { ShutdownTimeout = TimeSpan.FromSeconds(-1) },
                _ => throw new ArgumentException(setting),
            },
        });

        Assert.Contains(setting, refusal);
    }

    // Unchecked, Kestrel refuses such a certificate only when the node starts its listener; a validation callback
    // without a certificate is never called, the node speaking cleartext.
    [Theory]
    [InlineData("without its private key", "no private key")]
    [InlineData("for client authentication only", "server authentication")]
    [InlineData("missing, with a validation callback", "RemoteCertificateValidation")]
    [InlineData("missing, with trusted roots", "TrustedRoots")]
    [InlineData("with no trusted root", "TrustedRoots is empty")]
    public void A_TLS_setting_the_listener_or_dialer_cannot_use_must_be_refused_naming_it(string certificate, string reason)
    {
        using var usable = SelfSigned(serverAuthentication: true);
        using var clientOnly = SelfSigned(serverAuthentication: false);
        using var withoutKey = X509CertificateLoader.LoadCertificate(usable.Export(X509ContentType.Cert));
        var refusal = Refusal(() => Options("a") with
        {
            Transport = certificate switch
            {
                "without its private key" => new TransportOptions { Certificate = withoutKey },
                "for client authentication only" => new TransportOptions { Certificate = clientOnly },
                "missing, with trusted roots" => new TransportOptions { TrustedRoots = [usable] },
                "with no trusted root" => new TransportOptions { Certificate = usable, TrustedRoots = [] },
                _ => new TransportOptions { RemoteCertificateValidation = (_, _, _, _) => true },
            },
        });

        Assert.Contains("MeshOptions.Transport.", refusal);
        Assert.Contains(reason, refusal);
    }

    // Unchecked, a RequestTimeout beyond a timer's limit would fail every request with ArgumentOutOfRangeException
    // ('delay'). CommandTimeout of 60 days: every registry call throws, the node never joins, and StopAsync never
    // returns (the registry actor's leave throws and is resumed, and the ask waits on a timer that cannot fire).
    // CommandTimeout of TimeSpan.MaxValue: StopAsync throws OverflowException computing its deadline before it stops
    // anything, leaving the actor system, the listener and the heartbeating registration alive.
    [Theory]
    [InlineData("Messaging.RequestTimeout", 60.0)]
    [InlineData("Discovery.CommandTimeout", 60.0)]
    [InlineData("Discovery.CommandTimeout", double.PositiveInfinity)]
    public void A_timeout_longer_than_a_dotnet_timer_can_wait_must_be_refused_with_the_other_option_errors(string setting, double days)
    {
        var timeout = double.IsPositiveInfinity(days) ? TimeSpan.MaxValue : TimeSpan.FromDays(days);

        var refusal = Refusal(() => setting == "Messaging.RequestTimeout"
            ? Options("a") with { Messaging = new MessagingOptions { RequestTimeout = timeout } }
            : Options("a") with { Discovery = Options("a").Discovery with { CommandTimeout = timeout } });

        Assert.Contains(setting.Split('.')[1], refusal);
    }

    // The registry's logger is made by StartAsync itself, after the peer manager is up and before the node counts as
    // started: a stop requested there is a stop requested while the node starts (a host shutting down during its
    // start), at a point this test can pick.
    [Fact]
    public async Task A_node_stopped_while_it_starts_must_end_stopped_and_not_report_itself_started()
    {
        MeshNode node = null!;
        Task? stopping = null;
        node = new MeshNode(Options("a") with { LoggerFactory = new OnRegistryLogger(_log, () => stopping ??= node.StopAsync()) });
        try
        {
            var startFailure = await Record.ExceptionAsync(() => node.StartAsync().WithTimeout());
            output.WriteLine($"StartAsync: {startFailure?.GetType().Name ?? "returned"}");
            Assert.NotNull(stopping);
            await stopping.WithTimeout();
            Assert.True(node.System.WhenTerminated.IsCompleted, "the stop terminated the node's actor system");

            // The stop has completed: whatever StartAsync did, the node is stopped, and says so.
            var peers = Record.Exception(() => node.Peers);
            Assert.True(peers is InvalidOperationException, $"Peers after the stop gave {(peers is null ? "a reference to the stopped peer manager" : peers.GetType().Name)} instead of saying the node is stopped");
            var subscribe = Assert.Throws<InvalidOperationException>(() => node.Subscribe<int>("ticks", (_, _) => default));
            Assert.Contains("is stopped", subscribe.Message);
        }
        finally
        {
            await node.DisposeAsync().AsTask().WithTimeout();
        }
    }

    // Unchecked, such a registry is refused only when the node starts, after the options were taken as valid.
    [Theory]
    [InlineData("local:")]
    [InlineData("redis://user@localhost:6379")]
    [InlineData("redis://localhost:6379/orders")]
    public void A_registry_the_node_cannot_open_must_be_refused_with_the_other_option_errors(string registry)
    {
        var refusal = Refusal(() => Options("a") with { Discovery = new DiscoveryOptions { Registry = registry } });

        Assert.Contains("Registry", refusal);
    }

    [Fact]
    public async Task A_second_node_on_one_actor_system_must_be_refused_naming_the_system()
    {
        var system = ActorSystem.Create("shared", new ActorSystemOptions { LoggerFactory = _log });
        try
        {
            await using var first = await MeshNode.StartAsync(Options("a"), system);

            var second = await Assert.ThrowsAsync<InvalidOperationException>(() => MeshNode.StartAsync(Options("b"), system));

            Assert.Contains("'shared' already hosts a mesh node", second.Message);
            Assert.True(first.IsStarted); // the first goes on
        }
        finally
        {
            await system.Terminate().WithTimeout();
        }
    }

    [Fact]
    public async Task A_stopped_node_must_know_no_members()
    {
        await using var a = await MeshNode.StartAsync(Options("a"));
        await using var b = await MeshNode.StartAsync(Options("b"));
        await Conditions.AwaitConditionAsync(() => a.Members.Any(member => member.Id == b.Id), TestTimeouts.Default, message: "a sees b");

        await a.StopAsync();

        Assert.Empty(a.Members);
    }

    private MeshOptions Options(string name) => new()
    {
        NodeName = name,
        Discovery = new DiscoveryOptions { Registry = "local:" + _root },
        LoggerFactory = _log,
    };

    private static X509Certificate2 SelfSigned(bool serverAuthentication)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=meshactors-test", key, HashAlgorithmName.SHA256);
        var usage = new OidCollection { new Oid(serverAuthentication ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2") };
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usage, critical: false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), password: null);
    }

    /// <summary>What refuses the options: the setter's exception, or every error MeshOptions.Validate would list ("" when nothing does).</summary>
    private static string Refusal(Func<MeshOptions> options)
    {
        try
        {
            return string.Join(" ", options().ValidationErrors());
        }
        catch (ArgumentException ex)
        {
            return $"{ex.ParamName}: {ex.Message}";
        }
    }

    /// <summary>A meter factory (as a host's is) that runs <paramref name="created"/> each time a meter is made.</summary>
    /// <summary>The test's log, calling <paramref name="created"/> when the node makes its registry's logger: a point of its start the test can pick.</summary>
    private sealed class OnRegistryLogger(ILoggerFactory inner, Action created) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName)
        {
            if (categoryName.EndsWith("Registry", StringComparison.Ordinal))
                created();
            return inner.CreateLogger(categoryName);
        }

        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        public void Dispose()
        {
        }
    }
}
